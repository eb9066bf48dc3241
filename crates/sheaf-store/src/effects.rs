//! Work outside the database that a write carries out with its plan, inside its
//! transaction.

use sheaf_core::{Plan, Refusal};

/// Work outside the database that one write carries out with its plan (the daemon moves
/// the files of a `relocate`). The store calls [`Effects::apply`] inside the write
/// transaction, after planning and before applying the plan and committing, so no other
/// write sees the plan before its effects are done; then exactly one of
/// [`Effects::commit`] (the write committed) or [`Effects::rollback`] (the write failed
/// after `apply` succeeded). `()` is a write without effects.
pub trait Effects {
    /// Carries out the plan's effects. A refusal refuses the write and nothing is
    /// committed; `apply` undoes what it did before it failed.
    fn apply(&mut self, plan: &Plan) -> Result<(), Refusal>;
    /// The write committed: finishes what had to wait for the commit.
    fn commit(&mut self);
    /// The write failed after [`Effects::apply`] succeeded: undoes what it did.
    fn rollback(&mut self);
}

impl Effects for () {
    fn apply(&mut self, _: &Plan) -> Result<(), Refusal> {
        Ok(())
    }

    fn commit(&mut self) {}

    fn rollback(&mut self) {}
}
