//! The compiled decision table: immutable, `Send + Sync`, shared by `Arc`.
//!
//! A query is a hash probe for the user (and guardian) and an index into a flat array of outcome
//! ids; nothing is parsed or allocated. Provenance is assembled on request from the per-user
//! effective instances kept beside the table and the parts `provenance` rendered once.

pub(crate) mod key;
mod provenance;
pub(crate) mod stored;

pub(crate) use key::GuardianKey;
use provenance::Explainer;

use crate::directory::{Guardian, GuardianId, User, UserId};
use crate::eval::{self, Effective, Outcome, Provenance};
use crate::model::{DecisionId, Model, TypeId};
use std::fmt::Write as _;
use std::sync::Arc;

/// Why a query could not be answered.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QueryError {
    /// No user has that UPN.
    #[error("unknown user `{upn}`{}", suggest(.suggestion))]
    UnknownUser {
        /// The UPN asked for.
        upn: String,
        /// The nearest known UPN, if one is near.
        suggestion: Option<String>,
    },
    /// No decision has that name.
    #[error("unknown decision `{name}`{}", suggest(.suggestion))]
    UnknownDecision {
        /// The name asked for.
        name: String,
        /// The nearest decision name, if one is near.
        suggestion: Option<String>,
    },
    /// The guardian's id is not repeated: it may be an email address.
    #[error("no guardian has that id (a guardian without an explicit `id` is named by its email)")]
    UnknownGuardian,
    /// The decision is about a guardian and none was given.
    #[error("decision `{0}` is about a guardian: give one with --guardian")]
    GuardianRequired(String),
    /// The decision is about the user only and a guardian was given.
    #[error("decision `{0}` is about the user only: leave out the guardian")]
    GuardianNotExpected(String),
}

fn suggest(s: &Option<String>) -> String {
    s.as_ref().map(|s| format!(" (did you mean `{s}`?)")).unwrap_or_default()
}

impl QueryError {
    /// A stable code for JSON errors.
    pub fn code(&self) -> &'static str {
        match self {
            QueryError::UnknownUser { .. } => "UNKNOWN_USER",
            QueryError::UnknownDecision { .. } => "UNKNOWN_DECISION",
            QueryError::UnknownGuardian => "UNKNOWN_GUARDIAN",
            QueryError::GuardianRequired(_) => "GUARDIAN_REQUIRED",
            QueryError::GuardianNotExpected(_) => "GUARDIAN_NOT_EXPECTED",
        }
    }
}

/// The compiled table. Build it with [`crate::compile::compile`] (or [`crate::Engine`]).
pub struct DecisionTable {
    model: Arc<Model>,
    /// Per decision (by id): where its outcomes are.
    columns: Vec<DecisionColumn>,
    used_types: Vec<TypeId>,
    user_profile: Vec<u32>,
    user_effective: Vec<u32>,
    effective_sets: Vec<Box<[Effective]>>,
    profile_count: usize,
    /// Outcome ids, each decision's block at its column's offset (see [`DecisionColumn::cell`]).
    cells: Vec<u32>,
    outcomes: Vec<Outcome>,
    /// Provenance parts rendered once.
    explainer: Explainer,
    /// The SHA-256 of the bundle the table was loaded from, if it was (see [`crate::bundle`]).
    bundle: Option<Arc<str>>,
}

/// What the compiler works out, handed to [`DecisionTable::new`]; a bundle stores it (see
/// [`stored`]).
#[derive(Debug)]
pub(crate) struct Compiled {
    /// Per decision (by id): where its outcomes are.
    pub columns: Vec<DecisionColumn>,
    /// The policy types the decisions consult, in slot order.
    pub used_types: Vec<TypeId>,
    /// Each user's profile.
    pub user_profile: Vec<u32>,
    /// Each user's set of effective instances (an index into `effective_sets`).
    pub user_effective: Vec<u32>,
    /// The distinct sets of effective instances, one per slot of `used_types`.
    pub effective_sets: Vec<Box<[Effective]>>,
    pub profile_count: usize,
    /// Outcome ids, each decision's block at its column's offset.
    pub cells: Vec<u32>,
    pub outcomes: Vec<Outcome>,
}

impl DecisionTable {
    /// The table of a compiled model; renders the provenance every query shares.
    pub(crate) fn new(model: Arc<Model>, c: Compiled) -> Self {
        let held = c.effective_sets.iter().flat_map(|set| c.used_types.iter().copied().zip(set.iter().copied()));
        let explainer = Explainer::new(&model, held);
        Self {
            model,
            columns: c.columns,
            used_types: c.used_types,
            user_profile: c.user_profile,
            user_effective: c.user_effective,
            effective_sets: c.effective_sets,
            profile_count: c.profile_count,
            cells: c.cells,
            outcomes: c.outcomes,
            explainer,
            bundle: None,
        }
    }
}

/// One decision's part of the table. Profiles that agree on everything the decision reads
/// share a row; a guardian decision has one cell per row and guardian key it distinguishes.
#[derive(Debug, Default, serde::Serialize, serde::Deserialize)]
pub(crate) struct DecisionColumn {
    pub guardian: bool,
    /// The [`GuardianKey`] bits the decision reads.
    pub mask: u32,
    /// Dense index from a masked packed key to its position in `keys` (guardian decisions).
    pub index: Vec<u32>,
    /// The distinct masked keys; a single `0` for decisions about the user only.
    pub keys: Vec<u32>,
    /// The row of each profile.
    pub row_of_profile: Vec<u32>,
    /// Where this decision's cells start.
    pub offset: usize,
}

impl DecisionColumn {
    /// The cell of a profile and a (full, unmasked) packed guardian key.
    pub fn cell(&self, profile: usize, key: u32) -> usize {
        let local = if self.guardian { self.index[(key & self.mask) as usize] as usize } else { 0 };
        self.offset + self.row_of_profile[profile] as usize * self.keys.len() + local
    }
}

impl std::fmt::Debug for DecisionTable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DecisionTable")
            .field("users", &self.user_profile.len())
            .field("profiles", &self.profile_count)
            .field("guardian_keys", &self.object_count())
            .field("outcomes", &self.outcomes.len())
            .finish_non_exhaustive()
    }
}

/// A decision id resolved once, for repeated queries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DecisionHandle(pub(crate) DecisionId);

/// A user resolved once, for repeated queries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UserHandle(pub(crate) UserId);

/// A guardian resolved once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GuardianHandle(pub(crate) GuardianId);

impl DecisionHandle {
    /// Index of the decision in the model.
    pub fn index(self) -> usize {
        self.0
    }
}

impl UserHandle {
    /// The directory's id of the entry (for `tenet::unstable` code).
    pub fn id(self) -> UserId {
        self.0
    }

    /// Index of the user in the directory.
    pub fn index(self) -> usize {
        self.0.index()
    }
}

impl GuardianHandle {
    /// The directory's id of the entry (for `tenet::unstable` code).
    pub fn id(self) -> GuardianId {
        self.0
    }

    /// Index of the guardian in the directory.
    pub fn index(self) -> usize {
        self.0.index()
    }
}

/// The answer to one query: borrowed from the table, free to produce.
#[derive(Debug, Clone, Copy)]
pub struct Answer<'t> {
    table: &'t DecisionTable,
    /// Who asked.
    pub user: UserHandle,
    /// What was asked.
    pub decision: DecisionHandle,
    /// About which guardian, for the decisions about one.
    pub guardian: Option<GuardianHandle>,
    /// The answer: allowed or not, the deciding rule, every blocker and warning.
    pub outcome: &'t Outcome,
}

impl DecisionTable {
    /// The checked model the table was compiled from.
    pub fn model(&self) -> &Model {
        &self.model
    }

    /// The SHA-256 of the bundle this table was loaded from, in hex; `None` for a table built
    /// from sources. Replicas serving the same bundle say the same.
    pub fn bundle_checksum(&self) -> Option<&str> {
        self.bundle.as_deref()
    }

    /// The table loaded from the bundle whose checksum is `checksum`.
    pub(crate) fn loaded_from_bundle(mut self, checksum: &str) -> Self {
        self.bundle = Some(Arc::from(checksum));
        self
    }

    /// Number of distinct profiles (rows).
    pub fn profile_count(&self) -> usize {
        self.profile_count
    }

    /// Number of distinct guardian object keys.
    pub fn object_count(&self) -> usize {
        self.columns.iter().filter(|c| c.guardian).map(|c| c.keys.len()).sum()
    }

    /// Number of cells, all decisions together.
    pub fn cell_count(&self) -> usize {
        self.cells.len()
    }

    /// Number of distinct outcomes.
    pub fn outcome_count(&self) -> usize {
        self.outcomes.len()
    }

    /// The user of a handle from this table.
    pub fn user_at(&self, user: UserHandle) -> &User {
        self.model.directory.user_at(user.0)
    }

    /// The guardian of a handle from this table.
    pub fn guardian_at(&self, guardian: GuardianHandle) -> &Guardian {
        self.model.directory.guardian_at(guardian.0)
    }

    /// Resolves a UPN once, for repeated queries (see [`Self::decide_handles`]).
    pub fn user(&self, upn: &str) -> Result<UserHandle, QueryError> {
        match self.model.directory.user(upn) {
            Some((i, _)) => Ok(UserHandle(i)),
            None => Err(QueryError::UnknownUser {
                upn: upn.to_string(),
                suggestion: self.model.directory.suggest_user(upn).map(str::to_string),
            }),
        }
    }

    /// Resolves a decision's name once.
    pub fn decision(&self, name: &str) -> Result<DecisionHandle, QueryError> {
        match self.model.decisions.get_index_of(name) {
            Some(i) => Ok(DecisionHandle(i)),
            None => Err(QueryError::UnknownDecision {
                name: name.to_string(),
                suggestion: crate::diagnostic::closest(name, self.model.decisions.keys().map(String::as_str))
                    .map(str::to_string),
            }),
        }
    }

    /// Resolves a guardian's id once.
    pub fn guardian(&self, id: &str) -> Result<GuardianHandle, QueryError> {
        self.model.directory.guardian(id).map(|(i, _)| GuardianHandle(i)).ok_or(QueryError::UnknownGuardian)
    }

    /// Decides by names. The hot path: two or three hash probes and an array read.
    pub fn decide(&self, upn: &str, decision: &str, guardian: Option<&str>) -> Result<Answer<'_>, QueryError> {
        let user = self.user(upn)?;
        let decision = self.decision(decision)?;
        let guardian = match (guardian, self.columns[decision.0].guardian) {
            (Some(g), true) => Some(self.guardian(g)?),
            (Some(_), false) => {
                return Err(QueryError::GuardianNotExpected(self.model.decisions[decision.0].name.clone()));
            }
            (None, _) => None,
        };
        self.decide_handles(user, decision, guardian)
    }

    /// Decides by pre-resolved handles.
    pub fn decide_handles(
        &self,
        user: UserHandle,
        decision: DecisionHandle,
        guardian: Option<GuardianHandle>,
    ) -> Result<Answer<'_>, QueryError> {
        // Handles from another table (say, before a reload) are refused, not trusted.
        let Some(&profile) = self.user_profile.get(user.index()) else {
            return Err(QueryError::UnknownUser { upn: format!("#{}", user.index()), suggestion: None });
        };
        let profile = profile as usize;
        let Some(column) = self.columns.get(decision.0) else {
            return Err(QueryError::UnknownDecision { name: format!("#{}", decision.0), suggestion: None });
        };
        let key = match (column.guardian, guardian) {
            (false, None) => 0,
            (true, Some(g)) => {
                let dir = &self.model.directory;
                match dir.get_guardian(g.0) {
                    Some(gd) => GuardianKey::of(dir, user.0, g.0, gd),
                    None => return Err(QueryError::UnknownGuardian),
                }
            }
            (false, Some(_)) => {
                return Err(QueryError::GuardianNotExpected(self.model.decisions[decision.0].name.clone()));
            }
            (true, None) => {
                return Err(QueryError::GuardianRequired(self.model.decisions[decision.0].name.clone()));
            }
        };
        // A key no guardian of this directory has (only a damaged bundle could give one) has no cell.
        let Some(&id) = self.cells.get(column.cell(profile, key)) else { return Err(QueryError::UnknownGuardian) };
        Ok(Answer { table: self, user, decision, guardian, outcome: &self.outcomes[id as usize] })
    }

    /// The effective instance of a consulted policy type for a user.
    pub fn effective(&self, user: UserHandle, ptype: TypeId) -> Option<Effective> {
        let slot = self.used_types.binary_search(&ptype).ok()?;
        self.effective_sets[self.user_effective[user.index()] as usize].get(slot).copied()
    }

    /// Guardians a user deals with: those of the students of the class teams they own, and their
    /// own guardians, in directory order.
    pub fn guardians_of(&self, user: UserHandle) -> Vec<GuardianHandle> {
        self.model.directory.guardians_of(user.0).into_iter().map(GuardianHandle).collect()
    }

    /// Every query the table can answer: each user with each user-only decision, and with each
    /// guardian decision for every guardian in the directory (not only their own).
    pub fn every_query(&self) -> impl Iterator<Item = (UserHandle, DecisionHandle, Option<GuardianHandle>)> + '_ {
        let guardians = self.model.directory.guardian_count();
        (0..self.user_profile.len()).flat_map(move |u| {
            self.columns.iter().enumerate().flat_map(move |(d, col)| {
                let gs: Vec<Option<GuardianHandle>> = if col.guardian {
                    (0..guardians).map(|g| Some(GuardianHandle(GuardianId::new(g)))).collect()
                } else {
                    vec![None]
                };
                gs.into_iter().map(move |g| (UserHandle(UserId::new(u)), DecisionHandle(d), g))
            })
        })
    }

    /// Every decision for every user, guardian decisions for each guardian the user deals with.
    pub fn all(&self) -> Vec<Answer<'_>> {
        let mut out = Vec::new();
        self.for_each_answered(|user, decision, guardian| out.extend(self.decide_handles(user, decision, guardian)));
        out
    }

    /// Calls `f` with every query [`Self::all`] answers, in the same order, without answering.
    pub fn for_each_answered(&self, mut f: impl FnMut(UserHandle, DecisionHandle, Option<GuardianHandle>)) {
        for u in 0..self.user_profile.len() {
            let user = UserHandle(UserId::new(u));
            let guardians = self.guardians_of(user);
            for (d, col) in self.columns.iter().enumerate() {
                let decision = DecisionHandle(d);
                if col.guardian {
                    for g in &guardians {
                        f(user, decision, Some(*g));
                    }
                } else {
                    f(user, decision, None);
                }
            }
        }
    }

    /// A stable, readable listing of the compiled table: profiles with their effective instances
    /// and attributes, and each profile's outcome codes. Snapshot tests print it.
    pub fn dump(&self) -> String {
        let m = &self.model;
        let mut out = String::new();
        let _ = writeln!(
            out,
            "table: {} users, {} profiles, {} guardian keys, {} cells, {} outcomes",
            self.user_profile.len(),
            self.profile_count,
            self.object_count(),
            self.cells.len(),
            self.outcomes.len()
        );
        let mut members: Vec<Vec<&str>> = vec![Vec::new(); self.profile_count];
        for (u, p) in self.user_profile.iter().enumerate() {
            members[*p as usize].push(m.directory.user_at(UserId::new(u)).upn());
        }
        for (p, users) in members.iter().enumerate() {
            let _ = writeln!(out, "profile {p}: {}", users.join(", "));
            if let Some(first) = users.first().and_then(|u| m.directory.user(u)) {
                for &t in &self.used_types {
                    if let Some(e) = self.effective(UserHandle(first.0), t) {
                        let _ = writeln!(
                            out,
                            "  {} = {}",
                            m.policy_types[t].schema.name,
                            m.policy_types[t].instances[e.instance].identity()
                        );
                    }
                }
            }
            for (d, col) in self.columns.iter().enumerate() {
                if !col.guardian {
                    let o = &self.outcomes[self.cells[col.cell(p, 0)] as usize];
                    let _ = writeln!(out, "  {} -> {}", m.decisions[d].name, summary(o));
                }
            }
        }
        out
    }
}

fn summary(o: &Outcome) -> String {
    if o.allowed {
        match &o.channel {
            Some(c) => format!("allow via {c}"),
            None => "allow".to_string(),
        }
    } else {
        let codes: Vec<&str> = o.blockers.iter().map(|b| b.code.as_ref()).collect();
        format!("deny {}", codes.join(" "))
    }
}

impl<'t> Answer<'t> {
    /// Whether the decision allows.
    pub fn allowed(&self) -> bool {
        self.outcome.allowed
    }

    /// The user asked about.
    pub fn user(&self) -> &'t User {
        self.table.model.directory.user_at(self.user.0)
    }

    /// The decision's name.
    pub fn decision_name(&self) -> &'t str {
        &self.table.model.decisions[self.decision.0].name
    }

    /// The guardian asked about, if any.
    pub fn guardian(&self) -> Option<&'t Guardian> {
        self.guardian.map(|g| self.table.model.directory.guardian_at(g.0))
    }

    /// The names of the facts the rule behind `reason` (one of this answer's) reads, as
    /// [`Self::provenance`] names them: a blocker's cause.
    pub fn facts_read(&self, reason: &eval::Reason) -> Arc<[Arc<str>]> {
        self.table.explainer.facts_read(reason)
    }

    /// Every setting and attribute the decision consulted, with its value and source, derived
    /// from the table's per-user effective instances (rendered at compile time, see
    /// `provenance`).
    pub fn provenance(&self) -> Vec<Provenance> {
        let t = self.table;
        let m = &t.model;
        t.explainer.provenance(m, self.decision.0, self.user.0, self.guardian.map(|g| g.0), |ptype| {
            t.effective(self.user, ptype)
                .unwrap_or(Effective { instance: m.policy_types[ptype].global, via: eval::Via::Global })
        })
    }
}
