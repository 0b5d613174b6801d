//! Guardian keys: what a decision reads of a guardian, packed into a few bits.

use crate::directory::{Directory, Guardian, GuardianId, Relation, Relationship, UserId};
use crate::model::{GuardianAttr, Model, Value};

/// A guardian as a decision sees it, packed: one bit per boolean attribute of the guardian and
/// of its tie to the user asking, and four bits of relationship. Decisions about a guardian are
/// compiled once per key a query can produce, not once per guardian.
#[derive(Debug)]
pub struct GuardianKey;

/// The object keys a query can produce, and a dense index from packed key to object id.
pub(crate) struct Objects {
    pub keys: Vec<u32>,
    pub index: Vec<u32>,
}

impl GuardianKey {
    const REL_SHIFT: u32 = 7;
    const REL_MASK: u32 = 0b1111 << Self::REL_SHIFT;
    /// Number of distinct packed keys.
    pub const SPACE: usize = 1 << 11;

    pub fn mask_of(a: GuardianAttr) -> u32 {
        match a {
            GuardianAttr::HasEmail => 1,
            GuardianAttr::HasPhone => 1 << 1,
            GuardianAttr::PhoneE164 => 1 << 2,
            GuardianAttr::OnTeams => 1 << 3,
            GuardianAttr::Blocked => 1 << 4,
            GuardianAttr::Linked => 1 << 5,
            GuardianAttr::OfUser => 1 << 6,
            GuardianAttr::Relationship => Self::REL_MASK,
        }
    }

    fn relationship(key: u32) -> Relationship {
        Relationship::ALL
            .get(((key & Self::REL_MASK) >> Self::REL_SHIFT) as usize)
            .copied()
            .unwrap_or(Relationship::Other)
    }

    /// A guardian attribute read back from a packed key: the one decoder of these bits.
    pub fn attr(model: &Model, key: u32, a: GuardianAttr) -> Value {
        match a {
            GuardianAttr::Relationship => model.relationship_value(Self::relationship(key)),
            other => Value::Bool(key & Self::mask_of(other) != 0),
        }
    }

    fn intrinsic(g: &Guardian) -> u32 {
        u32::from(g.email().is_some())
            | u32::from(g.phone().is_some()) << 1
            | u32::from(g.phone_e164) << 2
            | u32::from(g.on_teams) << 3
    }

    fn pack(intrinsic: u32, r: Relation, blocked: bool) -> u32 {
        intrinsic
            | u32::from(blocked) << 4
            | u32::from(r.linked) << 5
            | u32::from(r.of_user) << 6
            | (r.relationship.index() as u32) << Self::REL_SHIFT
    }

    /// The packed facts of `guardian` as seen by `user`.
    pub fn of(dir: &Directory, user: UserId, gi: GuardianId, g: &Guardian) -> u32 {
        let blocked = dir.user_at(user).blocked().contains(gi);
        Self::pack(Self::intrinsic(g), dir.relation(user, g), blocked)
    }

    /// The distinct (intrinsic facts, relationship) pairs of the directory's guardian links, in
    /// order of first appearance: what [`Self::reachable`] expands. A district has millions of
    /// links and a few dozen such pairs.
    pub(crate) fn link_kinds(model: &Model) -> Vec<(u32, Relationship)> {
        let mut seen = vec![false; Self::SPACE];
        let mut kinds = Vec::new();
        for (_, g) in model.directory.guardians() {
            let intrinsic = Self::intrinsic(g);
            for link in g.links() {
                let r = Relation { of_user: false, linked: false, relationship: link.relationship };
                let key = Self::pack(intrinsic, r, false) as usize;
                if !std::mem::replace(&mut seen[key], true) {
                    kinds.push((intrinsic, link.relationship));
                }
            }
        }
        kinds
    }

    /// Every key (projected on `mask`) that some query can produce, from [`Self::link_kinds`].
    pub(crate) fn reachable(kinds: &[(u32, Relationship)], mask: u32) -> Objects {
        let mut index = vec![u32::MAX; Self::SPACE];
        let mut keys = Vec::new();
        // A query's relationship is one of the guardian's links'; the relation bits and the
        // block can be anything.
        for &(intrinsic, relationship) in kinds {
            for (of_user, linked) in [(false, false), (true, false), (false, true), (true, true)] {
                for blocked in [false, true] {
                    let r = Relation { of_user, linked, relationship };
                    let key = Self::pack(intrinsic, r, blocked) & mask;
                    if index[key as usize] == u32::MAX {
                        index[key as usize] = u32::try_from(keys.len()).unwrap_or(u32::MAX);
                        keys.push(key);
                    }
                }
            }
        }
        Objects { keys, index }
    }
}
