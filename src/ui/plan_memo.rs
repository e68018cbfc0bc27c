//! Plans built from the form once per edit, not once per render.
//!
//! The app re-renders on every action (each request answered during a check is one); building a
//! plan parses the whole custom list and expands the catalog, and the sweep panel builds one plan
//! per listed project. With 5,000 custom permissions and 50 projects listed that was 250,000
//! parses per render. These hooks rebuild only when a field a plan depends on changes.

use super::state::{plan_from_state, State};
use crate::core::catalog::Options;
use crate::core::plan::Plan;
use std::rc::Rc;
use yew::prelude::*;

/// The form fields a plan is built from, project included: the memo key.
#[derive(Clone, PartialEq)]
pub struct PlanForm {
    project: String,
    options: Options,
    custom: String,
    include_skypilot: bool,
    bucket: String,
    service_account: String,
}

impl PlanForm {
    /// The fields of `state` that decide its plan.
    pub fn of(state: &State) -> Self {
        Self {
            project: state.project.clone(),
            options: state.options,
            custom: state.custom.clone(),
            include_skypilot: state.include_skypilot,
            bucket: state.bucket.clone(),
            service_account: state.service_account.clone(),
        }
    }
}

/// The form's plan (or why there is none), rebuilt only when the form changes.
#[hook]
pub fn use_form_plan(state: &State) -> Rc<Result<Rc<Plan>, String>> {
    let form = state.clone();
    use_memo(PlanForm::of(state), move |_| {
        plan_from_state(&form).map(Rc::new)
    })
}

/// The form's plan for each of `projects` (stopping at the first error), rebuilt only when the
/// form or the list changes.
#[hook]
pub fn use_plans_for(state: &State, projects: Vec<String>) -> Rc<Result<Vec<Plan>, String>> {
    let mut form = state.clone();
    use_memo((PlanForm::of(state), projects), move |(_, projects)| {
        projects
            .iter()
            .map(|p| {
                form.project.clone_from(p);
                plan_from_state(&form)
            })
            .collect()
    })
}
