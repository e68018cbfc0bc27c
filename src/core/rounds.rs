//! A transport that answers in rounds, for measuring what a check costs in sequential round
//! trips (and how many requests were in flight at once) without a network or a real clock.
//!
//! [`Rounds::drive`] polls a future until it stalls; every request sent meanwhile forms one
//! round, which is answered all at once (the clock moves on by one round trip). When only
//! sleeps are pending, the clock jumps to the earliest one. So the number of rounds is exactly
//! the length of the critical path, as the browser would see it with a fixed latency.

use super::http::{NetError, Request, Response, Transport};
use std::cell::{Cell, RefCell};
use std::future::Future;
use std::pin::{pin, Pin};
use std::rc::Rc;
use std::task::{Context, Poll, Waker};

/// Milliseconds one round trip takes on the virtual clock.
pub const ROUND_TRIP_MS: u64 = 100;

type Answer = Box<dyn Fn(&Request) -> Result<Response, NetError>>;

#[derive(Default)]
struct Slot {
    answer: RefCell<Option<Result<Response, NetError>>>,
    waker: RefCell<Option<Waker>>,
}

struct Timer {
    at_ms: u64,
    done: Cell<bool>,
    waker: RefCell<Option<Waker>>,
}

/// A transport whose requests are answered by `answer`, one round at a time.
pub struct Rounds {
    answer: Answer,
    pending: RefCell<Vec<(Request, Rc<Slot>)>>,
    timers: RefCell<Vec<Rc<Timer>>>,
    now_ms: Cell<u64>,
    /// Rounds of requests answered so far (the critical path, in round trips).
    pub rounds: Cell<usize>,
    /// The most requests answered in one round (what was in flight at once).
    pub widest_round: Cell<usize>,
    /// Every request sent, in order.
    pub sent: RefCell<Vec<Request>>,
    /// Requests per round, in order.
    pub round_sizes: RefCell<Vec<usize>>,
}

impl Rounds {
    /// A transport answering each request with `answer`.
    pub fn new(answer: impl Fn(&Request) -> Result<Response, NetError> + 'static) -> Self {
        Rounds {
            answer: Box::new(answer),
            pending: RefCell::default(),
            timers: RefCell::default(),
            now_ms: Cell::new(0),
            rounds: Cell::new(0),
            widest_round: Cell::new(0),
            sent: RefCell::default(),
            round_sizes: RefCell::default(),
        }
    }

    /// The virtual clock, in ms since the start.
    pub fn now_ms(&self) -> u64 {
        self.now_ms.get()
    }

    /// Runs `future` to completion, answering its requests round by round.
    ///
    /// # Panics
    /// When the future waits for something that is neither a request nor a sleep (a deadlock).
    pub fn drive<F: Future>(&self, future: F) -> F::Output {
        let mut future = pin!(future);
        let waker = futures::task::noop_waker();
        let mut cx = Context::from_waker(&waker);
        loop {
            if let Poll::Ready(out) = future.as_mut().poll(&mut cx) {
                return out;
            }
            let round: Vec<(Request, Rc<Slot>)> = self.pending.borrow_mut().drain(..).collect();
            if !round.is_empty() {
                self.rounds.set(self.rounds.get() + 1);
                self.widest_round
                    .set(self.widest_round.get().max(round.len()));
                self.round_sizes.borrow_mut().push(round.len());
                self.now_ms.set(self.now_ms.get() + ROUND_TRIP_MS);
                for (request, slot) in round {
                    *slot.answer.borrow_mut() = Some((self.answer)(&request));
                    if let Some(w) = slot.waker.borrow_mut().take() {
                        w.wake();
                    }
                }
                self.fire_timers();
                continue;
            }
            let next = self.timers.borrow().iter().map(|t| t.at_ms).min();
            match next {
                Some(at) => {
                    self.now_ms.set(self.now_ms.get().max(at));
                    self.fire_timers();
                }
                None => panic!("the future waits for nothing this transport can answer"),
            }
        }
    }

    fn fire_timers(&self) {
        let now = self.now_ms.get();
        let due: Vec<Rc<Timer>> = {
            let mut timers = self.timers.borrow_mut();
            let (due, rest) = timers.drain(..).partition(|t| t.at_ms <= now);
            *timers = rest;
            due
        };
        for timer in due {
            timer.done.set(true);
            if let Some(w) = timer.waker.borrow_mut().take() {
                w.wake();
            }
        }
    }
}

struct SendFuture<'a> {
    rounds: &'a Rounds,
    request: Option<Request>,
    slot: Rc<Slot>,
}

impl Future for SendFuture<'_> {
    type Output = Result<Response, NetError>;
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        if let Some(request) = self.request.take() {
            self.rounds.sent.borrow_mut().push(request.clone());
            let slot = self.slot.clone();
            self.rounds.pending.borrow_mut().push((request, slot));
        }
        if let Some(answer) = self.slot.answer.borrow_mut().take() {
            return Poll::Ready(answer);
        }
        *self.slot.waker.borrow_mut() = Some(cx.waker().clone());
        Poll::Pending
    }
}

struct SleepFuture(Rc<Timer>);

impl Future for SleepFuture {
    type Output = ();
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.0.done.get() {
            return Poll::Ready(());
        }
        *self.0.waker.borrow_mut() = Some(cx.waker().clone());
        Poll::Pending
    }
}

impl Transport for Rounds {
    fn send(&self, request: Request) -> impl Future<Output = Result<Response, NetError>> {
        SendFuture {
            rounds: self,
            request: Some(request),
            slot: Rc::default(),
        }
    }

    fn sleep(&self, millis: u32) -> impl Future<Output = ()> {
        let timer = Rc::new(Timer {
            at_ms: self.now_ms.get() + u64::from(millis),
            done: Cell::new(millis == 0),
            waker: RefCell::default(),
        });
        if millis > 0 {
            self.timers.borrow_mut().push(timer.clone());
        }
        SleepFuture(timer)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::http::{Auth, Method};

    fn get(n: usize) -> Request {
        Request {
            method: Method::Get,
            url: format!("https://x.googleapis.com/{n}"),
            auth: Auth::None,
            body: None,
        }
    }

    #[test]
    fn parallel_requests_are_one_round_and_sequential_ones_two() {
        let rounds = Rounds::new(|_| {
            Ok(Response {
                status: 200,
                body: "{}".into(),
            })
        });
        rounds.drive(async {
            let (a, b) = futures::join!(rounds.send(get(1)), rounds.send(get(2)));
            assert!(a.is_ok() && b.is_ok());
            rounds.send(get(3)).await.unwrap();
        });
        assert_eq!(rounds.rounds.get(), 2);
        assert_eq!(rounds.widest_round.get(), 2);
        assert_eq!(rounds.now_ms(), 2 * ROUND_TRIP_MS);
    }

    #[test]
    fn sleeps_move_the_clock_without_a_round() {
        let rounds = Rounds::new(|_| Err(NetError::Network("x".into())));
        rounds.drive(rounds.sleep(1_000));
        assert_eq!(rounds.now_ms(), 1_000);
        assert_eq!(rounds.rounds.get(), 0);
    }
}
