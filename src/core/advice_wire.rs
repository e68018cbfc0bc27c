//! What the page and its advice worker say to each other. The role index parser and
//! [`super::roles::fix::advise`] are not small, and only a not-ready card needs them, so the
//! browser runs them in a web worker (`src/bin/advice_worker.rs`) fetched when advice is first
//! shown. The worker fetches the role data itself (relative to its own URL, so sub-path hosting
//! works): the page sends an [`AdviceRequest`] and gets an [`AdviceReply`], both as JSON text.
//!
//! The page links only the types, [`AdviceRequest::to_json`] and [`AdviceReply::from_json`];
//! [`AdviceDesk`] (and with it the role index and `advise`) is linked only into the worker.
//! The terminal and the Python binding call the core directly.

use super::advice::missing_by_target;
use super::names::ProjectId;
use super::plan::Plan;
use super::roles::fix::{advise, FixAdvice, Member, MissingAt};
use super::roles::RoleIndex;
use super::verdict::{Topic, Verdict};
use serde::{Deserialize, Serialize};

pub use super::worker_wire::READY;

/// The id of the reply to a message that was not an [`AdviceRequest`]: never a question's id.
pub const NOT_A_REQUEST: u32 = u32::MAX;

/// Which role file answers a question.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RoleFile {
    /// Roles for SkyPilot's catalogue permissions (a few KB).
    SkyPilot,
    /// Every predefined role (about 140 KB gzip), for custom permission lists.
    Full,
}

impl RoleFile {
    /// Relative, so that the app works under a sub-path (the worker resolves it against its own
    /// URL, which sits next to the page's).
    pub fn url(self) -> &'static str {
        match self {
            RoleFile::SkyPilot => "roles/skypilot.json",
            RoleFile::Full => "roles/full.json",
        }
    }
}

/// One card's question: how to fix what is missing, granting to whom.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdviceQuery {
    /// The role file that can answer it (`full` when the user's own list is involved).
    pub file: RoleFile,
    /// The checked project.
    pub project: ProjectId,
    /// The checked account's email, when the token carried it.
    pub member_email: Option<String>,
    /// The token is a service account's (`serviceAccount:` member).
    pub service_account: bool,
    /// Missing permissions by where they are granted.
    pub missing: Vec<MissingAt>,
    /// APIs that are off.
    pub apis_off: Vec<String>,
}

impl AdviceQuery {
    /// The question a verdict card asks (and the reports reuse its answer): the full role file
    /// for the user's own list, granting to `email`.
    pub fn for_verdict(plan: &Plan, verdict: &Verdict, email: Option<&str>) -> AdviceQuery {
        AdviceQuery {
            file: if verdict.topic == Topic::Custom {
                RoleFile::Full
            } else {
                RoleFile::SkyPilot
            },
            project: plan.project.clone(),
            member_email: email.map(str::to_owned),
            service_account: false,
            missing: missing_by_target(plan, verdict),
            apis_off: verdict.apis_off.clone(),
        }
    }

    /// The advice from `index`, or why there is none, in one line.
    pub fn answer(&self, index: &RoleIndex) -> Result<FixAdvice, String> {
        Member::from_identity(self.member_email.as_deref(), self.service_account)
            .and_then(|member| advise(index, &self.project, &member, &self.missing, &self.apis_off))
            .map_err(|e| e.to_string())
    }
}

/// A question tagged so its answer can be matched to it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdviceRequest {
    /// The page's number for the question (echoed in the reply).
    pub id: u32,
    /// The question.
    pub query: AdviceQuery,
}

/// The answer to one [`AdviceRequest`]: the advice, or one line saying why there is none (the
/// role data could not be fetched or read, or a value failed its pattern).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdviceReply {
    /// The request's [`AdviceRequest::id`].
    pub id: u32,
    /// The advice or the one-line error.
    pub advice: Result<FixAdvice, String>,
}

impl AdviceRequest {
    /// The message text posted to the worker.
    pub fn to_json(&self) -> String {
        super::json::to_string(self).unwrap_or_default()
    }
}

impl AdviceReply {
    /// Parses the worker's answer; `None` if it is not one (never expected).
    pub fn from_json(text: &str) -> Option<AdviceReply> {
        super::json::from_str(text).ok()
    }

    fn to_json(&self) -> String {
        super::json::to_string(self).unwrap_or_default()
    }
}

/// Where one role file is, in the worker.
#[derive(Default)]
enum Slot {
    /// Not asked for, or its last download failed (tried again on the next question).
    #[default]
    Idle,
    /// Being fetched; these questions wait for it.
    Loading(Vec<AdviceRequest>),
    /// Parsed and kept for the worker's life (boxed: the index is large, the other states small).
    Ready(Box<RoleIndex>),
}

/// The worker's whole job, without the network: questions in, answers out, and which role file
/// to fetch. Every question waiting on one file shares one download; the full index, once there,
/// answers catalogue questions too.
#[derive(Default)]
pub struct AdviceDesk {
    skypilot: Slot,
    full: Slot,
}

impl AdviceDesk {
    fn slot(&mut self, file: RoleFile) -> &mut Slot {
        match file {
            RoleFile::SkyPilot => &mut self.skypilot,
            RoleFile::Full => &mut self.full,
        }
    }

    /// A message from the page. Returns the replies to post now and the role file to start
    /// fetching, if any. A message that is not a request gets an error reply with
    /// [`NOT_A_REQUEST`] as its id (the page numbers its questions from 0 up, so no question of
    /// its own is failed by it), never a panic.
    pub fn on_message(&mut self, text: &str) -> (Vec<String>, Option<RoleFile>) {
        let request = match super::json::from_str::<AdviceRequest>(text) {
            Ok(request) => request,
            Err(e) => {
                let reply = AdviceReply {
                    id: NOT_A_REQUEST,
                    advice: Err(format!("not an advice request: {e}")),
                };
                return (vec![reply.to_json()], None);
            }
        };
        if let Slot::Ready(full) = &self.full {
            return (vec![reply_to(&request, full)], None);
        }
        let file = request.query.file;
        match self.slot(file) {
            Slot::Ready(index) => (vec![reply_to(&request, index)], None),
            Slot::Loading(waiting) => {
                waiting.push(request);
                (Vec::new(), None)
            }
            slot @ Slot::Idle => {
                *slot = Slot::Loading(vec![request]);
                (Vec::new(), Some(file))
            }
        }
    }

    /// The download of `file` ended with its text or a one-line error: answers every question
    /// waiting on it. A failed download (or data that does not parse) is an error reply, never
    /// kept: the next question fetches again.
    pub fn on_fetched(&mut self, file: RoleFile, fetched: Result<String, String>) -> Vec<String> {
        let waiting = match std::mem::take(self.slot(file)) {
            Slot::Loading(waiting) => waiting,
            other => {
                *self.slot(file) = other;
                return Vec::new();
            }
        };
        match fetched.and_then(|text| RoleIndex::from_json(&text).map_err(|e| e.to_string())) {
            Ok(index) => {
                let replies = waiting.iter().map(|r| reply_to(r, &index)).collect();
                *self.slot(file) = Slot::Ready(Box::new(index));
                replies
            }
            Err(message) => waiting
                .iter()
                .map(|r| {
                    AdviceReply {
                        id: r.id,
                        advice: Err(message.clone()),
                    }
                    .to_json()
                })
                .collect(),
        }
    }
}

fn reply_to(request: &AdviceRequest, index: &RoleIndex) -> String {
    AdviceReply {
        id: request.id,
        advice: request.query.answer(index),
    }
    .to_json()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::permission::Permission;
    use crate::core::roles::fix::Target;

    const ROLES: &str = include_str!("../../tests/fixtures/roles-small.json");

    fn query(file: RoleFile, email: Option<&str>) -> AdviceQuery {
        AdviceQuery {
            file,
            project: ProjectId::parse("seed-project").unwrap(),
            member_email: email.map(str::to_owned),
            service_account: false,
            missing: vec![MissingAt {
                target: Target::Project,
                permissions: vec![
                    Permission::parse("compute.firewalls.create").unwrap(),
                    Permission::parse("compute.firewalls.delete").unwrap(),
                ],
            }],
            apis_off: vec!["compute.googleapis.com".to_owned()],
        }
    }

    fn request(id: u32, file: RoleFile) -> String {
        AdviceRequest {
            id,
            query: query(file, Some("ada@example.com")),
        }
        .to_json()
    }

    fn replies(texts: &[String]) -> Vec<AdviceReply> {
        texts
            .iter()
            .map(|t| AdviceReply::from_json(t).expect("a reply"))
            .collect()
    }

    #[test]
    fn a_request_round_trips_to_the_same_advice_as_a_direct_call() {
        let mut desk = AdviceDesk::default();
        let (now, fetch) = desk.on_message(&request(7, RoleFile::SkyPilot));
        assert!(now.is_empty());
        assert_eq!(fetch, Some(RoleFile::SkyPilot));
        let got = replies(&desk.on_fetched(RoleFile::SkyPilot, Ok(ROLES.to_owned())));
        let index = RoleIndex::from_json(ROLES).unwrap();
        let direct = query(RoleFile::SkyPilot, Some("ada@example.com"))
            .answer(&index)
            .unwrap();
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].id, 7);
        let advice = got[0].advice.clone().unwrap();
        assert_eq!(advice, direct);
        // What the card shows survives the trip: commands, member, the data's date.
        assert!(!advice.targets.is_empty());
        assert_eq!(advice.member, Member::User("ada@example.com".into()));
        assert_eq!(advice.data.data_date, index.header().data_date);
        assert_eq!(advice.script(), direct.script());
        assert_eq!(advice.to_markdown(), direct.to_markdown());
        assert_eq!(advice.enable_apis.len(), 1);
    }

    #[test]
    fn every_member_kind_round_trips() {
        let index = RoleIndex::from_json(ROLES).unwrap();
        for email in [
            None,
            Some("ada@example.com"),
            Some("sa@p.iam.gserviceaccount.com"),
        ] {
            let advice = query(RoleFile::SkyPilot, email).answer(&index).unwrap();
            let text = AdviceReply {
                id: 1,
                advice: Ok(advice.clone()),
            }
            .to_json();
            assert_eq!(AdviceReply::from_json(&text).unwrap().advice, Ok(advice));
        }
    }

    #[test]
    fn every_target_kind_round_trips_and_a_bad_one_is_refused() {
        use crate::core::names::{BucketName, ServiceAccountEmail};
        let targets = vec![
            Target::Project,
            Target::Bucket(BucketName::parse("gs://team-bucket").unwrap()),
            Target::ServiceAccount(
                ServiceAccountEmail::parse("runner@p.iam.gserviceaccount.com").unwrap(),
            ),
        ];
        let text = crate::core::json::to_string(&targets).unwrap();
        assert_eq!(
            crate::core::json::from_str::<Vec<Target>>(&text).unwrap(),
            targets
        );
        for bad in [
            r#"{"type":"bucket"}"#,
            r#"{"type":"bucket","name":"Not A Bucket!"}"#,
            r#"{"type":"folder","name":"x"}"#,
            r#"{"name":"x"}"#,
        ] {
            assert!(crate::core::json::from_str::<Target>(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn questions_waiting_on_one_file_share_one_fetch_and_later_ones_need_none() {
        let mut desk = AdviceDesk::default();
        assert_eq!(
            desk.on_message(&request(1, RoleFile::SkyPilot)).1,
            Some(RoleFile::SkyPilot)
        );
        assert_eq!(
            desk.on_message(&request(2, RoleFile::SkyPilot)),
            (vec![], None)
        );
        let got = replies(&desk.on_fetched(RoleFile::SkyPilot, Ok(ROLES.to_owned())));
        assert_eq!(got.iter().map(|r| r.id).collect::<Vec<_>>(), vec![1, 2]);
        assert!(got.iter().all(|r| r.advice.is_ok()));
        let (now, fetch) = desk.on_message(&request(3, RoleFile::SkyPilot));
        assert_eq!(fetch, None);
        assert_eq!(replies(&now)[0].id, 3);
        // The full index is another file...
        assert_eq!(
            desk.on_message(&request(4, RoleFile::Full)).1,
            Some(RoleFile::Full)
        );
        assert_eq!(
            replies(&desk.on_fetched(RoleFile::Full, Ok(ROLES.to_owned())))[0].id,
            4
        );
    }

    #[test]
    fn the_full_index_answers_catalogue_questions_once_loaded() {
        let mut desk = AdviceDesk::default();
        desk.on_message(&request(1, RoleFile::Full));
        desk.on_fetched(RoleFile::Full, Ok(ROLES.to_owned()));
        let (now, fetch) = desk.on_message(&request(2, RoleFile::SkyPilot));
        assert_eq!(fetch, None);
        assert!(replies(&now)[0].advice.is_ok());
    }

    #[test]
    fn a_failed_fetch_is_an_error_for_each_waiting_question_and_is_tried_again() {
        let mut desk = AdviceDesk::default();
        desk.on_message(&request(1, RoleFile::SkyPilot));
        desk.on_message(&request(2, RoleFile::SkyPilot));
        let message = "Could not load the role data (roles/skypilot.json): HTTP 503";
        let got = replies(&desk.on_fetched(RoleFile::SkyPilot, Err(message.to_owned())));
        assert_eq!(got.len(), 2);
        assert!(got.iter().all(|r| r.advice == Err(message.to_owned())));
        // Not kept as an answer: the next question fetches again.
        assert_eq!(
            desk.on_message(&request(3, RoleFile::SkyPilot)).1,
            Some(RoleFile::SkyPilot)
        );
        let got = replies(&desk.on_fetched(RoleFile::SkyPilot, Ok("{not json".to_owned())));
        assert_eq!(got[0].id, 3);
        assert!(got[0].advice.is_err());
        // A fetch nobody waits for changes nothing.
        assert!(desk
            .on_fetched(RoleFile::Full, Ok(ROLES.to_owned()))
            .is_empty());
    }

    #[test]
    fn a_value_failing_its_pattern_is_an_error_reply() {
        let mut desk = AdviceDesk::default();
        let bad = AdviceRequest {
            id: 5,
            query: query(RoleFile::SkyPilot, Some("not an email; rm -rf /")),
        };
        desk.on_message(&bad.to_json());
        let got = replies(&desk.on_fetched(RoleFile::SkyPilot, Ok(ROLES.to_owned())));
        assert_eq!(got[0].id, 5);
        assert!(got[0].advice.as_ref().unwrap_err().contains("Email"));
    }

    #[test]
    fn a_message_that_is_not_a_request_is_an_error_reply_not_a_panic() {
        let mut desk = AdviceDesk::default();
        for junk in [
            "",
            "null",
            "[1,2]",
            "{\"id\": \"x\"}",
            "{\"id\": 1, \"query\": {\"file\": \"other\"}}",
            "{\"id\":1,\"query\":{\"file\":\"sky_pilot\",\"project\":\"BAD PROJECT\",\"member_email\":null,\"service_account\":false,\"missing\":[],\"apis_off\":[]}}",
        ] {
            let (now, fetch) = desk.on_message(junk);
            assert_eq!(fetch, None, "{junk}");
            let reply = &replies(&now)[0];
            assert_eq!(reply.id, NOT_A_REQUEST);
            assert!(reply
                .advice
                .as_ref()
                .unwrap_err()
                .contains("not an advice request"));
        }
        assert!(AdviceReply::from_json("garbage").is_none());
    }
}
