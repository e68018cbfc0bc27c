//! The rows of one profile's permission table in "All N permissions": the first
//! [`SHOWN_ROWS`] at once, the rest behind a "Show all N" button.
//!
//! A 5,000-permission custom list otherwise builds 5,000 table rows (and their DOM) the moment
//! its result arrives, inside a `<details>` that is usually never opened. A component of its
//! own, with props compared by `Rc` identity, also keeps the rows out of re-renders caused by
//! the clock or by progress that do not change the result.

use crate::core::catalog::required_by;
use crate::core::check::Findings;
use crate::core::plan::Plan;
use crate::core::verdict::{effective, Effective, NOT_VALID_ON_PROJECT};
use std::rc::Rc;
use yew::prelude::*;

/// Rows shown before the "Show all" button.
pub const SHOWN_ROWS: usize = 200;

/// Props of [`GroupRows`].
#[derive(Properties)]
pub struct GroupRowsProps {
    /// What was tested.
    pub plan: Rc<Plan>,
    /// What was found.
    pub findings: Rc<Findings>,
    /// Which of `plan.groups`.
    pub group: usize,
}

impl PartialEq for GroupRowsProps {
    fn eq(&self, other: &Self) -> bool {
        // A result is immutable once shown: the same `Rc`s are the same rows.
        Rc::ptr_eq(&self.plan, &other.plan)
            && Rc::ptr_eq(&self.findings, &other.findings)
            && self.group == other.group
    }
}

fn effective_label(e: &Effective) -> (&'static str, String) {
    match e {
        Effective::Held => ("held", "held".into()),
        Effective::Missing => ("missing", "missing".into()),
        Effective::PerBucketUnverified => {
            ("note", "granted per bucket — not verifiable here".into())
        }
        Effective::OnServiceAccountUnverified => {
            ("note", "may be granted on the service account".into())
        }
        Effective::NotValid => ("missing", NOT_VALID_ON_PROJECT.into()),
        Effective::Untestable => ("note", "untestable on the bucket".into()),
        Effective::Error { error, on } => ("error", format!("error on {on}: {error}")),
        Effective::NotTested => ("error", "not tested".into()),
    }
}

/// The `<tbody>` of one group's table.
#[component]
pub fn GroupRows(props: &GroupRowsProps) -> Html {
    let show_all = use_state(|| false);
    let Some(group) = props.plan.groups.get(props.group) else {
        return Html::default();
    };
    let total = group.permissions.len();
    let shown = if *show_all {
        total
    } else {
        total.min(SHOWN_ROWS)
    };
    let on_show_all = {
        let show_all = show_all.clone();
        Callback::from(move |_| show_all.set(true))
    };
    html! {
        <tbody>
            { for group.permissions.iter().take(shown).map(|p| {
                let (class, label) = effective_label(&effective(&props.plan, &props.findings, p));
                let (check, docs) = required_by(p.as_str());
                html! {
                    <tr key={p.as_str()} class={class}>
                        <td><a href={p.doc_url()} target="_blank" rel="noopener noreferrer"><code>{ p.as_str() }</code></a></td>
                        <td>{ label }</td>
                        <td>{ if check { "required" } else { "—" } }</td>
                        <td>{ if docs { "required" } else { "—" } }</td>
                    </tr>
                }
            }) }
            if shown < total {
                <tr key="show-all" class="show-all">
                    <td colspan="4">
                        <button type="button" onclick={on_show_all}>{ format!("Show all {total}") }</button>
                    </td>
                </tr>
            }
        </tbody>
    }
}
