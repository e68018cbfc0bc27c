//! Demo mode's transport: the simulated Google runs in a web worker of its own
//! (`src/bin/demo_worker.rs`, wire types in [`crate::core::demo_wire`]), started on the first
//! demo request, so that the simulation is not in the page's first load.
//!
//! Each request becomes a [`DemoCall`] with an id; the worker's [`DemoReply`] with that id
//! completes it. A worker that cannot load or fails completes every call in flight with
//! [`NetError::NotSent`] ("Not asked: …", never a verdict, and not about the user's network),
//! and the next request starts a fresh worker.

use super::worker::LazyWorker;
use crate::core::demo_wire::{DemoCall, DemoReply};
use crate::core::http::{NetError, Request, Response};
use futures::channel::oneshot;
use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::rc::Rc;

/// The worker's loader script as Trunk names it (`data-loader-shim`), relative to the page.
const WORKER_URL: &str = "./demo_worker_loader.js";

/// The error of a call whose worker did not start or failed.
const WORKER_FAILED: &str =
    "the demo's simulated Google did not start: its web worker failed to load";

type Waiting = Rc<RefCell<HashMap<u32, oneshot::Sender<Response>>>>;

/// The page's side of the demo worker: one per demo session (the app keeps it in a memo), so one
/// simulation answers the whole session, as it did in the page.
#[derive(Default)]
pub struct DemoClient {
    worker: RefCell<Option<LazyWorker>>,
    next_id: Cell<u32>,
    waiting: Waiting,
}

impl DemoClient {
    /// The simulated Google's answer to `request`.
    pub async fn call(&self, request: &Request) -> Result<Response, NetError> {
        let id = self.next_id.get();
        // Wraps long before u32::MAX (`NOT_A_CALL`), which no call ever gets.
        self.next_id.set((id + 1) % (u32::MAX / 2));
        let call = DemoCall::from_request(id, request)
            .map_err(|refused| NetError::NotSent(refused.to_string()))?;
        let (answer, answered) = oneshot::channel();
        self.waiting.borrow_mut().insert(id, answer);
        let sent = {
            let mut slot = self.worker.borrow_mut();
            if slot.as_ref().is_none_or(LazyWorker::failed) {
                *slot = start_worker(self.waiting.clone());
            }
            slot.as_ref()
                .is_some_and(|worker| worker.send(call.to_json(), false))
        };
        if !sent {
            self.waiting.borrow_mut().remove(&id);
            *self.worker.borrow_mut() = None;
            return Err(NetError::NotSent(WORKER_FAILED.into()));
        }
        // A dropped sender (the worker failed) is an error, never an answer.
        answered
            .await
            .map_err(|_| NetError::NotSent(WORKER_FAILED.into()))
    }
}

fn start_worker(waiting: Waiting) -> Option<LazyWorker> {
    let on_failure = waiting.clone();
    LazyWorker::start(
        WORKER_URL,
        move |text| {
            if let Some(reply) = DemoReply::from_json(&text) {
                if let Some(answer) = waiting.borrow_mut().remove(&reply.id) {
                    // The request may have been cancelled meanwhile: then nobody listens.
                    let _ = answer.send(reply.into_response());
                }
            }
        },
        // Dropping the senders fails every call in flight.
        move || on_failure.borrow_mut().clear(),
    )
}
