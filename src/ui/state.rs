//! The app's one state and its reducer. The reducer only computes the next state; requests and
//! storage happen in effects and callbacks (see `ui::App`).

use crate::core::cache::{read_entry, CacheEntry, CacheKey};
use crate::core::catalog::Options;
use crate::core::check::Findings;
use crate::core::google_error::ApiError;
use crate::core::identity::Identity;
use crate::core::plan::Plan;
use crate::core::projects::ProjectSummary;
use crate::core::share::{OpenedResult, SharedQuestion};
use crate::core::skyfiles::SkyFiles;
use crate::core::skyfiles_wire::ReadRequest;
use crate::core::token::{Token, TokenError};
use std::rc::Rc;
use yew::Reducible;

/// What is known about the current token's account.
#[derive(Clone, Debug, PartialEq)]
pub enum IdentityState {
    /// No token.
    None,
    /// tokeninfo is on its way.
    Pending,
    /// tokeninfo answered.
    Known(Rc<Identity>),
    /// tokeninfo failed.
    Failed(ApiError),
}

/// The projects the current token's account can see (`projects.search`), for the picker and
/// for anything that needs "all visible projects" ([`State::visible_projects`]).
#[derive(Clone, Debug, PartialEq)]
pub enum ProjectListing {
    /// Not asked (no token, or the account is not known yet).
    None,
    /// `projects.search` is on its way.
    Loading,
    /// Every active project it can see, sorted by ID.
    Listed(Rc<Vec<ProjectSummary>>),
    /// The listing failed: the one-line reason (typing a project ID still works).
    Failed(String),
}

/// A finished check (or a cache hit) on display.
#[derive(Clone, Debug, PartialEq)]
pub struct Outcome {
    /// What was tested.
    pub plan: Rc<Plan>,
    /// What was found.
    pub findings: Rc<Findings>,
    /// When (ms since the epoch).
    pub checked_at_ms: u64,
    /// Served from the cache.
    pub from_cache: bool,
    /// What the gcloud CLI token found on the same plan, when one was given.
    pub cli: Option<Rc<Findings>>,
}

/// Where the check stands.
#[derive(Clone, Debug, PartialEq)]
pub enum Run {
    /// Nothing to show.
    Idle,
    /// Check was pressed while tokeninfo is still out and a cached result may answer: wait for
    /// the account before sending anything.
    AwaitingIdentity {
        /// What to check.
        plan: Rc<Plan>,
    },
    /// Requests are out.
    Running {
        /// Which run; answers for another run are dropped.
        id: u32,
        /// What is being tested.
        plan: Rc<Plan>,
    },
    /// Results on display.
    Done(Outcome),
}

/// A share link this page was opened with, while what it filled in is on screen.
#[derive(Clone, Debug, PartialEq)]
pub enum OpenedLink {
    /// A question link filled the form; nothing was sent.
    Question,
    /// A result link: what is shown was seen by someone else and is not re-verified.
    Result {
        /// The account's email, when the sender included it.
        email: Option<String>,
        /// When that check finished (ms since the epoch).
        checked_at_ms: u64,
    },
}

/// The whole app state. The token lives here, in memory, and nowhere else; its type never
/// prints it (`Debug` of the state or of an action shows `Token(<redacted>)`).
#[derive(Clone, Debug, PartialEq)]
pub struct State {
    /// The pasted token (memory only), validated ([`crate::core::token::validate_token`]).
    pub token: Token,
    /// Why the last text pasted as the token was refused (nothing is sent while it is set).
    pub token_error: Option<TokenError>,
    /// Bumped on every token change: answers about an older token are dropped.
    pub token_generation: u32,
    /// The token's account.
    pub identity: IdentityState,
    /// The optional gcloud CLI token (memory only): `sky check` reads and enables APIs as the
    /// gcloud CLI account, which can differ from Application Default Credentials.
    pub cli_token: Token,
    /// Why the last text pasted as the gcloud CLI token was refused.
    pub cli_token_error: Option<TokenError>,
    /// Bumped on every CLI token change.
    pub cli_generation: u32,
    /// The CLI token's account.
    pub cli_identity: IdentityState,
    /// Project ID as typed.
    pub project: String,
    /// Options mirroring SkyPilot's config.
    pub options: Options,
    /// Custom permission list as typed.
    pub custom: String,
    /// Whether the SkyPilot profiles are tested (off = custom list only).
    pub include_skypilot: bool,
    /// Bucket name as typed.
    pub bucket: String,
    /// Service account as typed.
    pub service_account: String,
    /// The check.
    pub run: Run,
    /// Last run id handed out.
    pub last_run_id: u32,
    /// Demo mode: the simulated Google answers.
    pub demo: bool,
    /// Clock for ages and expiry, refreshed by a timer.
    pub now_ms: u64,
    /// A message about the last action (e.g. a refused input), shown as an alert.
    pub notice: Option<String>,
    /// Another tab stored a newer answer to exactly what is on screen: offered, never swapped in
    /// on its own ([`Action::ShowNewer`] takes it).
    pub newer: Option<Rc<CacheEntry>>,
    /// The share link that filled what is on screen, if one did (see `ui::share`).
    pub opened_link: Option<OpenedLink>,
    /// The projects the token's account can see; reset whenever the token changes.
    pub projects: ProjectListing,
    /// `(sent, answered)` requests of the running check, for the progress line.
    pub progress: (u32, u32),
    /// The pasted SkyPilot files ([`super::skyfiles`]) and what they say.
    pub sky: SkyFilesState,
}

/// The "SkyPilot config" and "Task YAML" fields and their reading. The reading is done by the
/// SkyPilot-file worker ([`super::skyfiles`], `src/bin/skyfiles_worker.rs`), so that the YAML
/// parser is not part of the first load: an edit asks for a new reading ([`Self::generation`])
/// and [`Action::SkyRead`] brings it.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SkyFilesState {
    /// `~/.sky/config.yaml` as pasted.
    pub config: String,
    /// Task YAML(s) as pasted.
    pub task: String,
    /// Bumped by each edit of either field; a reading of an older edit is dropped.
    pub generation: u32,
    /// A reading of the current texts is on its way (the check waits for it).
    pub reading: bool,
    /// What they say, or the first YAML error (or why the reader failed); `None` while both are
    /// empty.
    pub read: Option<Result<Rc<SkyFiles>, String>>,
}

impl SkyFilesState {
    /// After an edit: ask the worker for a reading, unless both fields are empty.
    fn edited(&mut self) {
        self.generation += 1;
        let empty = self.config.trim().is_empty() && self.task.trim().is_empty();
        self.reading = !empty;
        if empty {
            self.read = None;
        }
    }

    /// What to send to the worker now, if a reading is wanted.
    pub fn request(&self) -> Option<ReadRequest> {
        self.reading.then(|| ReadRequest {
            generation: self.generation,
            config: self.config.clone(),
            task: self.task.clone(),
        })
    }
}

/// The files fill what they set; the user may change it afterwards (an override). Options the
/// files never set (the list mode, clone disk) are left as they are.
fn apply_sky_files(next: &mut State, sky: &SkyFiles) {
    let from = sky.options;
    next.options = Options {
        custom_vpc: from.custom_vpc,
        reservations: from.reservations,
        open_ports: from.open_ports,
        tpus: from.tpus,
        custom_image: from.custom_image,
        gcs_mounts: from.gcs_mounts,
        ..next.options
    };
    if let Some((bucket, _)) = sky.buckets.first() {
        next.bucket = format!("gs://{}", bucket.as_str());
    }
    if let Some((account, _)) = &sky.service_account {
        next.service_account = account.as_str().to_owned();
    }
}

impl State {
    /// The initial state at `now_ms`.
    pub fn new(now_ms: u64) -> Self {
        State {
            token: Token::default(),
            token_error: None,
            token_generation: 0,
            identity: IdentityState::None,
            cli_token: Token::default(),
            cli_token_error: None,
            cli_generation: 0,
            cli_identity: IdentityState::None,
            project: String::new(),
            options: Options::default(),
            custom: String::new(),
            include_skypilot: true,
            bucket: String::new(),
            service_account: String::new(),
            run: Run::Idle,
            last_run_id: 0,
            demo: false,
            now_ms,
            notice: None,
            newer: None,
            sky: SkyFilesState::default(),
            progress: (0, 0),
            opened_link: None,
            projects: ProjectListing::None,
        }
    }

    /// Every active project the current token's account can see, once listed.
    pub fn visible_projects(&self) -> Option<&[ProjectSummary]> {
        match &self.projects {
            ProjectListing::Listed(list) => Some(list),
            _ => None,
        }
    }
}

/// What the form asks to check, validated; `Err` is the message to show.
pub fn plan_from_state(state: &State) -> Result<Plan, String> {
    use crate::core::names::{BucketName, ProjectId, ServiceAccountEmail};
    use crate::core::permission::parse_list;
    use crate::core::plan::PlanInput;
    if state.sky.reading {
        return Err("Reading the SkyPilot files… press Check again in a moment.".to_owned());
    }
    if let Some(Err(e)) = &state.sky.read {
        return Err(format!("Fix the SkyPilot file first: {e}"));
    }
    let project = ProjectId::parse(&state.project).map_err(|e| e.to_string())?;
    let custom = parse_list(&state.custom).permissions;
    if !state.include_skypilot && custom.is_empty() {
        return Err(
            "Nothing to check: tick \"SkyPilot profiles\" or paste custom permissions.".into(),
        );
    }
    fn optional(text: &str) -> Option<&str> {
        (!text.trim().is_empty()).then_some(text)
    }
    let bucket = optional(&state.bucket)
        .map(BucketName::parse)
        .transpose()
        .map_err(|e| e.to_string())?;
    let service_account = optional(&state.service_account)
        .map(ServiceAccountEmail::parse)
        .transpose()
        .map_err(|e| e.to_string())?;
    let input = PlanInput {
        options: state.options,
        custom,
        skip_skypilot: !state.include_skypilot,
        bucket,
        service_account,
    };
    Ok(Plan::build(project, &input))
}

/// A form field that changes what is checked.
#[derive(Clone, Debug, PartialEq)]
pub enum Field {
    /// Project ID.
    Project(String),
    /// Options.
    Options(Options),
    /// Custom list.
    Custom(String),
    /// Whether SkyPilot profiles are included.
    IncludeSkypilot(bool),
    /// Bucket.
    Bucket(String),
    /// Service account.
    ServiceAccount(String),
    /// The "SkyPilot config" field.
    SkyConfig(String),
    /// The "Task YAML" field.
    SkyTask(String),
}

/// Everything that can happen.
#[derive(Clone, Debug)]
pub enum Action {
    /// The token field changed to a valid token (or to nothing).
    Token(Token),
    /// The token field holds text that cannot be a bearer token: nothing is sent.
    TokenRefused(TokenError),
    /// tokeninfo answered for token generation `generation`.
    IdentityResolved {
        /// The generation asked about.
        generation: u32,
        /// The answer.
        result: Result<Identity, ApiError>,
    },
    /// The gcloud CLI token field changed to a valid token (or to nothing).
    CliToken(Token),
    /// The gcloud CLI token field holds text that cannot be a bearer token.
    CliTokenRefused(TokenError),
    /// tokeninfo answered for CLI token generation `generation`.
    CliIdentityResolved {
        /// The generation asked about.
        generation: u32,
        /// The answer.
        result: Result<Identity, ApiError>,
    },
    /// A field that changes the plan changed: what is shown no longer applies.
    Edit(Field),
    /// The SkyPilot-file worker could not load or failed: the reading in flight fails.
    SkyReaderFailed,
    /// The SkyPilot-file worker read the texts of edit `generation` (or failed to).
    SkyRead {
        /// [`SkyFilesState::generation`] of the texts read.
        generation: u32,
        /// What they say, or the YAML error / the reader's failure in words.
        read: Result<Rc<SkyFiles>, String>,
    },
    /// Wait for tokeninfo, then answer from the cache or check.
    AwaitIdentity {
        /// What to check.
        plan: Rc<Plan>,
    },
    /// Check `id` has sent `sent` requests and had `answered` of them answered (or failed).
    Progress {
        /// Which check.
        id: u32,
        /// Requests sent so far (retries and further pages included).
        sent: u32,
        /// Requests answered so far.
        answered: u32,
    },
    /// A check started.
    Started {
        /// Its id (from `last_run_id + 1`).
        id: u32,
        /// Its plan.
        plan: Rc<Plan>,
    },
    /// A check finished.
    Finished {
        /// Its id.
        id: u32,
        /// What it found (boxed: large, and rare next to other actions).
        findings: Box<Findings>,
        /// What the gcloud CLI token found, when one was given.
        cli_findings: Option<Box<Findings>>,
        /// When.
        at_ms: u64,
    },
    /// Fresh cache entries answered.
    FromCache {
        /// The plan it answers.
        plan: Rc<Plan>,
        /// The entry.
        entry: Box<CacheEntry>,
        /// The gcloud CLI token's entry, when one was given.
        cli_entry: Option<Box<CacheEntry>>,
    },
    /// Another tab stored a result under `key` (the `storage` event).
    StoredElsewhere {
        /// The storage key.
        key: String,
        /// The new value (`None` when removed).
        value: Option<String>,
        /// The clock at the event.
        now_ms: u64,
    },
    /// The user takes the newer result another tab stored ([`State::newer`]).
    ShowNewer {
        /// The clock now: an offer that has gone stale meanwhile is dropped instead.
        now_ms: u64,
    },
    /// Refused input or similar: show this message.
    Notice(String),
    /// Wipe the token and everything derived from it.
    Forget,
    /// Enter demo mode with this demo token and project.
    Demo {
        /// A demo token.
        token: String,
        /// A demo project.
        project: String,
    },
    /// The clock moved.
    Tick(u64),
    /// A sweep row was opened: its full result on display, for its project.
    ShowResult {
        /// The plan it answers.
        plan: Rc<Plan>,
        /// What was found.
        findings: Rc<Findings>,
        /// When.
        checked_at_ms: u64,
        /// Whether it came from the cache.
        from_cache: bool,
    },
    /// The project listing for token generation `generation` moved on.
    Projects {
        /// The generation it is about; answers about an older token are dropped.
        generation: u32,
        /// Where it stands.
        listing: ProjectListing,
    },
    /// A question link was opened: fill the form, send nothing.
    OpenQuestion(Box<SharedQuestion>),
    /// A result link was opened: fill the form and show its findings, not re-verified.
    OpenResult(Box<OpenedResult>),
}

/// Puts a shared question into the form's fields.
fn fill_form(next: &mut State, question: &SharedQuestion) {
    next.project = question
        .project
        .as_ref()
        .map(|p| p.to_string())
        .unwrap_or_default();
    next.options = question.options;
    next.include_skypilot = question.include_skypilot;
    next.custom = question.custom_text();
    next.bucket = question
        .bucket
        .as_ref()
        .map(|b| b.to_string())
        .unwrap_or_default();
    next.service_account = question
        .service_account
        .as_ref()
        .map(|a| a.to_string())
        .unwrap_or_default();
}

impl Reducible for State {
    type Action = Action;

    fn reduce(self: Rc<Self>, action: Action) -> Rc<Self> {
        let mut next = (*self).clone();
        // What a share link put on screen lasts until the user changes the question, the token
        // or the result.
        if matches!(
            action,
            Action::Token(_)
                | Action::TokenRefused(_)
                | Action::Edit(_)
                | Action::AwaitIdentity { .. }
                | Action::Started { .. }
                | Action::FromCache { .. }
                | Action::Forget
                | Action::Demo { .. }
        ) {
            next.opened_link = None;
        }
        match action {
            Action::Token(token) => {
                if token == self.token && self.token_error.is_none() {
                    return self;
                }
                next.token = token;
                next.token_error = None;
                next.token_generation += 1;
                // A pasted real token leaves demo mode: demo tokens never reach Google, and real
                // ones never reach the simulation.
                next.demo = next.demo && crate::core::demo::is_demo_token(&next.token);
                next.identity = if next.token.is_empty() {
                    IdentityState::None
                } else {
                    IdentityState::Pending
                };
                // Results belong to the account that asked: a new token is a new question.
                next.run = Run::Idle;
                next.notice = None;
            }
            Action::IdentityResolved { generation, result } => {
                if generation != self.token_generation {
                    return self;
                }
                next.identity = match result {
                    Ok(identity) => IdentityState::Known(Rc::new(identity)),
                    Err(error) => IdentityState::Failed(error),
                };
            }
            Action::TokenRefused(error) => {
                // Nothing of it is kept or sent; answers about the previous token are dropped.
                next.token = Token::default();
                next.token_generation += 1;
                next.identity = IdentityState::None;
                next.demo = false;
                next.run = Run::Idle;
                next.notice = Some(format!("Access token: {error}"));
                next.token_error = Some(error);
            }
            Action::CliTokenRefused(error) => {
                next.cli_token = Token::default();
                next.cli_generation += 1;
                next.cli_identity = IdentityState::None;
                next.run = Run::Idle;
                next.notice = Some(format!("gcloud CLI token: {error}"));
                next.cli_token_error = Some(error);
            }
            Action::CliToken(token) => {
                if token == self.cli_token && self.cli_token_error.is_none() {
                    return self;
                }
                next.cli_token = token;
                next.cli_token_error = None;
                next.cli_generation += 1;
                next.cli_identity = if next.cli_token.is_empty() {
                    IdentityState::None
                } else {
                    IdentityState::Pending
                };
                next.run = Run::Idle;
                next.notice = None;
            }
            Action::CliIdentityResolved { generation, result } => {
                if generation != self.cli_generation {
                    return self;
                }
                next.cli_identity = match result {
                    Ok(identity) => IdentityState::Known(Rc::new(identity)),
                    Err(error) => IdentityState::Failed(error),
                };
            }
            Action::Edit(field) => {
                match field {
                    Field::Project(p) => next.project = p,
                    Field::Options(o) => next.options = o,
                    Field::Custom(c) => next.custom = c,
                    Field::IncludeSkypilot(b) => next.include_skypilot = b,
                    Field::Bucket(b) => next.bucket = b,
                    Field::ServiceAccount(s) => next.service_account = s,
                    Field::SkyConfig(text) => {
                        next.sky.config = text;
                        next.sky.edited();
                    }
                    Field::SkyTask(text) => {
                        next.sky.task = text;
                        next.sky.edited();
                    }
                }
                next.run = Run::Idle;
                next.notice = None;
            }
            Action::AwaitIdentity { plan } => {
                next.run = Run::AwaitingIdentity { plan };
                next.notice = None;
            }
            Action::Started { id, plan } => {
                next.last_run_id = id;
                next.run = Run::Running { id, plan };
                next.notice = None;
                next.progress = (0, 0);
            }
            Action::Progress { id, sent, answered } => match &self.run {
                Run::Running { id: current, .. } if *current == id => {
                    next.progress = (sent, answered);
                }
                _ => return self,
            },
            Action::Finished {
                id,
                findings,
                cli_findings,
                at_ms,
            } => match &self.run {
                Run::Running { id: current, plan } if *current == id => {
                    next.run = Run::Done(Outcome {
                        plan: plan.clone(),
                        findings: Rc::new(*findings),
                        checked_at_ms: at_ms,
                        from_cache: false,
                        cli: cli_findings.map(|f| Rc::new(*f)),
                    });
                }
                // An answer for a check the user has since left is never shown.
                _ => return self,
            },
            Action::FromCache {
                plan,
                entry,
                cli_entry,
            } => {
                next.run = Run::Done(Outcome {
                    plan,
                    findings: Rc::new(entry.findings.to_findings()),
                    checked_at_ms: entry.checked_at_ms,
                    from_cache: true,
                    cli: cli_entry.map(|e| Rc::new(e.findings.to_findings())),
                });
                next.notice = None;
            }
            Action::StoredElsewhere { key, value, now_ms } => {
                // Only a newer answer to exactly what is on screen is offered; it never replaces
                // what is shown without the user's say (another same-origin document can write
                // localStorage).
                let (Run::Done(outcome), IdentityState::Known(id)) = (&self.run, &self.identity)
                else {
                    return self;
                };
                let Some(account) = &id.account_id else {
                    return self;
                };
                let current = CacheKey::new(account, &outcome.plan);
                if key != current.storage_key() {
                    return self;
                }
                let entry = value
                    .and_then(|text| read_entry(&text, &current, now_ms))
                    .filter(|entry| entry.checked_at_ms > outcome.checked_at_ms);
                match entry {
                    Some(entry) => next.newer = Some(Rc::new(entry)),
                    // Removed or unreadable: nothing newer to offer any more.
                    None if self.newer.is_some() => next.newer = None,
                    None => return self,
                }
                return Rc::new(next);
            }
            Action::ShowNewer { now_ms } => {
                let (Run::Done(outcome), Some(entry)) = (&self.run, &self.newer) else {
                    return self;
                };
                if entry.is_fresh(now_ms) {
                    next.run = Run::Done(Outcome {
                        plan: outcome.plan.clone(),
                        findings: Rc::new(entry.findings.to_findings()),
                        checked_at_ms: entry.checked_at_ms,
                        from_cache: true,
                        cli: outcome.cli.clone(),
                    });
                } else {
                    next.notice = Some(
                        "The other tab's result has expired meanwhile: press Re-check.".into(),
                    );
                }
                next.newer = None;
                return Rc::new(next);
            }
            Action::SkyRead { generation, read } => {
                if generation != next.sky.generation || !next.sky.reading {
                    return self; // an answer to texts that have changed since
                }
                next.sky.reading = false;
                if let Ok(sky) = &read {
                    apply_sky_files(&mut next, sky);
                }
                next.sky.read = Some(read);
                next.run = Run::Idle;
                next.notice = None;
            }
            Action::SkyReaderFailed => {
                if !next.sky.reading {
                    return self;
                }
                next.sky.reading = false;
                next.sky.read = Some(Err(
                    "The SkyPilot-file reader could not run in this browser; edit a field to try again.".to_owned(),
                ));
            }
            Action::Notice(text) => {
                if matches!(next.run, Run::AwaitingIdentity { .. }) {
                    next.run = Run::Idle;
                }
                next.notice = Some(text);
            }
            Action::Forget => {
                let now = self.now_ms;
                let mut fresh = State::new(now);
                fresh.token_generation = self.token_generation + 1;
                fresh.cli_generation = self.cli_generation + 1;
                fresh.project = self.project.clone();
                fresh.options = self.options;
                fresh.sky = self.sky.clone();
                fresh.last_run_id = self.last_run_id;
                return Rc::new(fresh);
            }
            Action::Demo { token, project } => {
                next.demo = true;
                // Demo tokens are fixed, valid strings (core::demo); nothing else gets here.
                next.token = Token::parse(&token).unwrap_or_default();
                next.token_error = None;
                next.token_generation += 1;
                next.identity = IdentityState::Pending;
                next.project = project;
                next.run = Run::Idle;
                next.notice = None;
            }
            Action::Tick(now) => next.now_ms = now,
            Action::ShowResult {
                plan,
                findings,
                checked_at_ms,
                from_cache,
            } => {
                next.project = plan.project.as_str().to_owned();
                next.run = Run::Done(Outcome {
                    plan,
                    findings,
                    checked_at_ms,
                    from_cache,
                    cli: None,
                });
                next.notice = None;
            }
            Action::OpenQuestion(question) => {
                fill_form(&mut next, &question);
                next.run = Run::Idle;
                next.notice = None;
                next.opened_link = Some(OpenedLink::Question);
            }
            Action::OpenResult(opened) => {
                fill_form(&mut next, &opened.question);
                next.run = Run::Done(Outcome {
                    plan: Rc::new(opened.plan),
                    findings: Rc::new(opened.findings),
                    checked_at_ms: opened.checked_at_ms,
                    from_cache: false,
                    cli: None,
                });
                next.notice = None;
                next.opened_link = Some(OpenedLink::Result {
                    email: opened.email,
                    checked_at_ms: opened.checked_at_ms,
                });
            }
            Action::Projects {
                generation,
                listing,
            } => {
                if generation != self.token_generation || listing == self.projects {
                    return self;
                }
                next.projects = listing;
                return Rc::new(next);
            }
        }
        // A new token is a new account: its projects are listed afresh.
        if next.token_generation != self.token_generation {
            next.projects = ProjectListing::None;
        }
        // An offer is about what was on screen: anything else on screen drops it.
        if next.run != self.run {
            next.newer = None;
        }
        Rc::new(next)
    }
}
