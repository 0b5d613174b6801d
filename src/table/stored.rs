//! The table as a bundle stores it (see [`crate::bundle`]): the compiled parts, each distinct
//! reason written once and outcomes naming reasons by index (a district's outcomes repeat a few
//! dozen messages hundreds of times).

use super::{Compiled, DecisionColumn, DecisionTable};
use crate::eval::{self, Effective, Outcome, Reason};
use crate::model::{Model, TypeId};
use std::collections::HashMap;
use std::sync::Arc;

/// An outcome with its reasons by index into the table's distinct reasons.
#[derive(Debug, serde::Serialize, serde::Deserialize)]
struct StoredOutcome {
    allowed: bool,
    channel: Option<Arc<str>>,
    reason: u32,
    blockers: Vec<u32>,
    warnings: Vec<u32>,
}

/// The table's compiled parts, lent for writing a bundle.
#[derive(Debug, serde::Serialize)]
pub(crate) struct StoredTable<'t> {
    columns: &'t [DecisionColumn],
    used_types: &'t [TypeId],
    user_profile: &'t [u32],
    user_effective: &'t [u32],
    effective_sets: &'t [Box<[Effective]>],
    profile_count: usize,
    cells: &'t [u32],
    reasons: Vec<&'t Reason>,
    outcomes: Vec<StoredOutcome>,
}

/// [`StoredTable`] read back: the same fields, in the same order, owned.
#[derive(Debug, serde::Deserialize)]
pub(crate) struct LoadedTable {
    columns: Vec<DecisionColumn>,
    used_types: Vec<TypeId>,
    user_profile: Vec<u32>,
    user_effective: Vec<u32>,
    effective_sets: Vec<Box<[Effective]>>,
    profile_count: usize,
    cells: Vec<u32>,
    reasons: Vec<Reason>,
    outcomes: Vec<StoredOutcome>,
}

/// The distinct reasons of a table, numbered in order of first use.
#[derive(Default)]
struct Reasons<'t> {
    list: Vec<&'t Reason>,
    index: HashMap<&'t Reason, u32>,
}

impl<'t> Reasons<'t> {
    fn id(&mut self, reason: &'t Reason) -> u32 {
        let next = u32::try_from(self.list.len()).unwrap_or(u32::MAX);
        *self.index.entry(reason).or_insert_with(|| {
            self.list.push(reason);
            next
        })
    }

    fn ids(&mut self, reasons: &'t [Reason]) -> Vec<u32> {
        reasons.iter().map(|r| self.id(r)).collect()
    }
}

impl DecisionTable {
    /// The compiled parts, for a bundle.
    pub(crate) fn stored(&self) -> StoredTable<'_> {
        let mut reasons = Reasons::default();
        let outcomes = self
            .outcomes
            .iter()
            .map(|o| StoredOutcome {
                allowed: o.allowed,
                channel: o.channel.clone(),
                reason: reasons.id(&o.reason),
                blockers: reasons.ids(&o.blockers),
                warnings: reasons.ids(&o.warnings),
            })
            .collect();
        StoredTable {
            columns: &self.columns,
            used_types: &self.used_types,
            user_profile: &self.user_profile,
            user_effective: &self.user_effective,
            effective_sets: &self.effective_sets,
            profile_count: self.profile_count,
            cells: &self.cells,
            reasons: reasons.list,
            outcomes,
        }
    }
}

impl LoadedTable {
    /// The compiled parts, once they are checked to fit `model` (see [`Compiled::fits`]).
    pub(crate) fn fitted(self, model: &Model) -> Result<Compiled, String> {
        let reason =
            |i: &u32| self.reasons.get(*i as usize).cloned().ok_or("an outcome names a reason that is not there");
        let outcomes = self
            .outcomes
            .iter()
            .map(|o| {
                Ok(Outcome {
                    allowed: o.allowed,
                    channel: o.channel.clone(),
                    reason: reason(&o.reason)?,
                    blockers: o.blockers.iter().map(reason).collect::<Result<_, _>>()?,
                    warnings: o.warnings.iter().map(reason).collect::<Result<_, _>>()?,
                })
            })
            .collect::<Result<Vec<Outcome>, &str>>()?;
        let compiled = Compiled {
            columns: self.columns,
            used_types: self.used_types,
            user_profile: self.user_profile,
            user_effective: self.user_effective,
            effective_sets: self.effective_sets,
            profile_count: self.profile_count,
            cells: self.cells,
            outcomes,
        };
        compiled.fits(model)?;
        Ok(compiled)
    }
}

impl Compiled {
    /// Whether these parts fit `model`: every index a query or an explanation follows is in
    /// range, so parts read from a bundle can't send a query out of bounds. Says what doesn't fit.
    pub(crate) fn fits(&self, model: &Model) -> Result<(), String> {
        let dir = &model.directory;
        let users = dir.user_count();
        if self.columns.len() != model.decisions.len() {
            return Err(format!("{} decision columns for {} decisions", self.columns.len(), model.decisions.len()));
        }
        if self.user_profile.len() != users || self.user_effective.len() != users {
            return Err(format!("profiles for {} users, the directory has {users}", self.user_profile.len()));
        }
        if self.profile_count > users.max(1) {
            return Err(format!("{} profiles for {users} users", self.profile_count));
        }
        if let Some(p) = self.user_profile.iter().find(|p| **p as usize >= self.profile_count) {
            return Err(format!("profile {p} of {}", self.profile_count));
        }
        if self.user_effective.iter().any(|e| *e as usize >= self.effective_sets.len()) {
            return Err("a user's effective instances are missing".into());
        }
        if !self.used_types.is_sorted() || self.used_types.iter().any(|t| *t >= model.policy_types.len()) {
            return Err("the consulted policy types are not the model's".into());
        }
        for set in &self.effective_sets {
            if set.len() != self.used_types.len() {
                return Err("a set of effective instances has the wrong length".into());
            }
            for (t, e) in self.used_types.iter().zip(set.iter()) {
                let bad_group = matches!(e.via, eval::Via::Group(g, _) if g.index() >= dir.group_count());
                if e.instance >= model.policy_types[*t].instances.len() || bad_group {
                    return Err("an effective instance is not the model's".into());
                }
            }
        }
        for (column, decision) in self.columns.iter().zip(model.decisions.values()) {
            let rows = column.row_of_profile.iter().map(|r| *r as usize + 1).max().unwrap_or(0);
            let cells = rows.checked_mul(column.keys.len()).and_then(|n| n.checked_add(column.offset));
            let index_fits = !column.guardian
                || (column.index.len() > column.mask as usize
                    && column.index.iter().all(|i| (*i as usize) < column.keys.len() || *i == u32::MAX));
            if column.guardian != decision.has_guardian
                || column.row_of_profile.len() != self.profile_count
                || column.keys.is_empty()
                || cells.is_none_or(|n| n > self.cells.len())
                || !index_fits
            {
                return Err(format!("the column of `{}` does not fit its cells", decision.name));
            }
        }
        if self.cells.iter().any(|c| *c as usize >= self.outcomes.len()) {
            return Err("a cell names an outcome that is not there".into());
        }
        Ok(())
    }
}
