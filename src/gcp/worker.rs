//! Web workers of the app's own wasm (Trunk `data-type="worker"`, `data-loader-shim`), started
//! on first use so that their code is not in the page's first load: the SkyPilot-file reader
//! (`src/ui/skyfiles.rs`), the fix advice (`src/ui/advice.rs`) and demo mode's simulated Google
//! (`src/gcp/demo.rs`). The page's side is [`LazyWorker`]; the worker's side is [`serve`].
//!
//! The protocol is [`crate::core::worker_wire`]: JSON text both ways, and [`READY`] first.

use crate::core::worker_wire::READY;
use std::cell::{Cell, RefCell};
use std::rc::Rc;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::JsCast;
use web_sys::{DedicatedWorkerGlobalScope, Event, MessageEvent, Worker};

/// A running worker and the handlers it calls (terminated when dropped).
pub struct LazyWorker {
    worker: Worker,
    /// Set when the worker failed (could not load, reported an error, or refused a message):
    /// the owner replaces it on the next use.
    failed: Rc<Cell<bool>>,
    /// Set when the worker posted its ready word.
    ready: Rc<Cell<bool>>,
    /// Messages sent before [`Self::ready`], posted on the ready word.
    waiting: Rc<RefCell<Vec<String>>>,
    _on_message: Closure<dyn Fn(MessageEvent)>,
    _on_error: Closure<dyn Fn(Event)>,
}

impl LazyWorker {
    /// Starts the worker whose loader is at `url` (relative to the page, so a sub-path works).
    /// `on_reply` gets every message after [`READY`]; `on_failure` is called when the worker
    /// cannot load or fails, or a held message cannot be posted. `None` if it cannot be created.
    pub fn start(
        url: &str,
        on_reply: impl Fn(String) + 'static,
        on_failure: impl Fn() + 'static,
    ) -> Option<LazyWorker> {
        let worker = Worker::new(url).ok()?;
        let ready = Rc::new(Cell::new(false));
        let failed = Rc::new(Cell::new(false));
        let waiting = Rc::new(RefCell::new(Vec::<String>::new()));
        let on_failure = Rc::new(on_failure);
        let on_message = {
            let (ready, failed, waiting, worker) = (
                ready.clone(),
                failed.clone(),
                waiting.clone(),
                worker.clone(),
            );
            let on_failure = on_failure.clone();
            Closure::<dyn Fn(MessageEvent)>::new(move |event: MessageEvent| {
                let text = event.data().as_string().unwrap_or_default();
                if text != READY {
                    on_reply(text);
                    return;
                }
                ready.set(true);
                let held: Vec<String> = waiting.borrow_mut().drain(..).collect();
                for message in held {
                    if worker.post_message(&message.into()).is_err() {
                        failed.set(true);
                        on_failure();
                    }
                }
            })
        };
        let on_error = {
            let failed = failed.clone();
            Closure::<dyn Fn(Event)>::new(move |event: Event| {
                event.prevent_default();
                failed.set(true);
                on_failure();
            })
        };
        worker.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        worker.set_onerror(Some(on_error.as_ref().unchecked_ref()));
        Some(LazyWorker {
            worker,
            failed,
            ready,
            waiting,
            _on_message: on_message,
            _on_error: on_error,
        })
    }

    /// Whether the worker failed and should be replaced.
    pub fn failed(&self) -> bool {
        self.failed.get()
    }

    /// Posts `message`, or holds it until the worker is ready; false if it could not be handed
    /// over. With `latest_only`, a held message replaces the ones held before it (a newer
    /// reading makes an older one moot).
    pub fn send(&self, message: String, latest_only: bool) -> bool {
        if !self.ready.get() {
            let mut waiting = self.waiting.borrow_mut();
            if latest_only {
                waiting.clear();
            }
            waiting.push(message);
            return true;
        }
        self.worker.post_message(&message.into()).is_ok()
    }
}

impl Drop for LazyWorker {
    fn drop(&mut self) {
        self.worker.terminate();
    }
}

/// The worker's side, in its `main`: hands every message text from the page to `on_message`
/// (with the scope, to post replies on) for the worker's life, then posts [`READY`].
pub fn serve(on_message: impl Fn(&DedicatedWorkerGlobalScope, String) + 'static) {
    let scope: DedicatedWorkerGlobalScope = js_sys::global().unchecked_into();
    let reply_to = scope.clone();
    let handler = Closure::<dyn Fn(MessageEvent)>::new(move |event: MessageEvent| {
        on_message(&reply_to, event.data().as_string().unwrap_or_default());
    });
    scope.set_onmessage(Some(handler.as_ref().unchecked_ref()));
    // The handler lives as long as the worker does.
    handler.forget();
    // Messages posted while the wasm was loading found no handler: tell the page to send now.
    let _ = scope.post_message(&READY.into());
}
