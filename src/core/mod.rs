//! The pure domain of gcp-preflight: no browser crates, tested natively with `cargo test`.
//!
//! Data flows token → [`identity`] → [`plan`] (from [`catalog`] profiles and options) → [`check`]
//! (over any [`http::Transport`]) → [`verdict`] → [`cache`] and [`report`]. [`demo`] is a
//! simulated Google used by demo mode and by the native tests.

pub mod advice;
pub mod advice_wire;
pub mod cache;
pub mod catalog;
pub mod check;
pub mod demo;
pub mod demo_wire;
pub mod endpoints;
pub mod google_error;
pub mod http;
pub mod identity;
pub mod json;
pub mod names;
pub mod patterns;
pub mod permission;
pub mod plan;
pub mod projects;
pub mod report;
pub mod roles;
pub mod rounds;
pub mod share;
pub mod signin;
pub mod skyfiles;
pub mod skyfiles_wire;
pub mod sweep;
pub mod token;
pub mod verdict;
pub mod warmup;
pub mod worker_wire;

/// Builds an ordered collection by inserting each item. `collect()` into a `BTreeMap` or
/// `BTreeSet` sorts first, which adds a sort routine per element type to the wasm bundle.
pub(crate) fn ordered<C: Default + Extend<T>, T>(items: impl IntoIterator<Item = T>) -> C {
    let mut collection = C::default();
    collection.extend(items);
    collection
}
