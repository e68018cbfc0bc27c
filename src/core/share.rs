//! Share links: a question (what to check) or a result (what was found) in a URL fragment.
//!
//! A link is `#q1=DATA` (a question) or `#r1=DATA` (a result). `q`/`r` is the kind, `1` the
//! format version; `DATA` is base64url (no padding) of one flag byte, [`RAW`] or [`DEFLATED`],
//! followed by the payload, deflated (`deflate-raw`) when that is shorter. The payload is a
//! 4-byte check (FNV-1a 64 of the JSON, low 32 bits, big-endian: catches a link cut or edited by
//! hand or by a chat tool; a forger can recompute it, which is why a shared result is shown as
//! "not re-verified" and its commands are rebuilt here) followed by the JSON. Compression is the
//! browser's (`CompressionStream`, in `ui::share`'s glue): this module takes and gives the bytes
//! already (de)compressed, so that it stays pure and natively tested.
//!
//! Never a token: the payload types have no token field, the encoder refuses a payload holding
//! anything token-shaped ([`token_shaped`]), and the decoder refuses a link carrying one anywhere
//! (the fragment's other parts included) before reading any field. Every field read back goes
//! through the same validated types as the form ([`ProjectId`], [`Permission`], …) and the same
//! patterns as commands ([`super::patterns`]); a result link's findings must answer exactly the
//! plan rebuilt from its question. The fix commands a result link shows are built again from those
//! findings by this app: a link never carries a command (a tampered one could carry any shell).

use super::cache::StoredFindings;
use super::catalog::Options;
use super::check::Findings;
use super::names::{BucketName, ProjectId, ServiceAccountEmail};
use super::patterns::{is_api_service, is_dns_name, is_plain_email};
use super::permission::Permission;
use super::plan::{Plan, PlanInput};
use serde::{Deserialize, Serialize};
use std::fmt;

/// Fragment key of a question link, format 1.
pub const QUESTION_KEY: &str = "q1";
/// Fragment key of a result link, format 1.
pub const RESULT_KEY: &str = "r1";
/// Flag byte: the JSON follows as is.
pub const RAW: u8 = 0;
/// Flag byte: the JSON follows deflated (`deflate-raw`, RFC 1951).
pub const DEFLATED: u8 = 1;
/// Longest fragment read, in characters. Browsers keep URLs of megabytes, but chat tools and
/// ticket systems cut links far shorter; 64 KiB holds a 1,000-permission custom list uncompressed.
pub const MAX_LINK_CHARS: usize = 64 * 1024;
/// Largest payload read after inflation: bounds what a small, highly compressed link can expand to.
pub const MAX_PAYLOAD_BYTES: usize = 256 * 1024;
/// Payloads at least this long are offered to the compressor (the shorter form is kept).
pub const COMPRESS_FROM: usize = 200;
/// A run of token characters at least this long, mixing upper case, lower case and digits, is
/// taken for a credential (an access token, a JWT segment, an API key). No name this app puts in
/// a link has one: permissions, projects, buckets and emails split into short, single-case parts.
pub const TOKEN_RUN_CHARS: usize = 32;

/// Which kind of link.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// What to check (`#q1=`).
    Question,
    /// What was found (`#r1=`).
    Result,
}

impl Kind {
    fn key(self) -> &'static str {
        match self {
            Kind::Question => QUESTION_KEY,
            Kind::Result => RESULT_KEY,
        }
    }
}

/// Why a link was refused; `Display` is the message shown to the user.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LinkError {
    /// Something token-shaped is in the link (or would be): never opened, never sent.
    TokenShaped,
    /// Made by a newer version of the app (`key` is e.g. `q2`).
    FutureVersion {
        /// The fragment key found.
        key: String,
    },
    /// Longer than [`MAX_LINK_CHARS`] or, inflated, than [`MAX_PAYLOAD_BYTES`].
    TooLong {
        /// What was measured (characters of the link, or bytes inflated).
        size: usize,
        /// The cap it passed.
        cap: usize,
        /// The unit: "characters" (the link) or "bytes once decompressed".
        unit: &'static str,
    },
    /// Cut off, edited or otherwise unreadable; the reason names the part.
    Damaged(String),
    /// A result whose findings do not answer the plan this version of the app builds from its
    /// question (another catalogue version, or an edited link).
    OtherPlan,
}

impl fmt::Display for LinkError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LinkError::TokenShaped => f.write_str(
                "This link was refused: it carries something that looks like an access token. Nothing from it was used and nothing was sent. A token must never travel in a link; if it was a real token, its owner should revoke it (gcloud auth revoke) and ask for a new link.",
            ),
            LinkError::FutureVersion { key } => write!(
                f,
                "This link was made by a newer version of gcp-preflight (format \"{key}\"); this page reads \"{QUESTION_KEY}\" and \"{RESULT_KEY}\" links. Open it where it was made, or ask for a new link."
            ),
            LinkError::TooLong { size, cap, unit } => write!(
                f,
                "This link is too large ({size} {unit}; at most {cap} are read) and was not opened. Ask for a shorter one, or for the Markdown or JSON report instead."
            ),
            LinkError::Damaged(why) => write!(
                f,
                "This share link is damaged ({why}) and was not opened: it may have been cut off or edited. Ask for the link again."
            ),
            LinkError::OtherPlan => f.write_str(
                "This result link does not match what this version of gcp-preflight checks for its question (another version made it, or it was edited). The question was filled in; press Check with a token to see the result now.",
            ),
        }
    }
}

impl std::error::Error for LinkError {}

fn damaged(why: impl Into<String>) -> LinkError {
    LinkError::Damaged(why.into())
}

fn default_true() -> bool {
    true
}

/// What to check: the form's fields, never the token. Short keys keep links short.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SharedQuestion {
    /// Project ID.
    #[serde(rename = "p", default, skip_serializing_if = "Option::is_none")]
    pub project: Option<ProjectId>,
    /// Mode and options (one number of bit flags: shorter links, and no second JSON shape of
    /// [`Options`] to keep stable).
    #[serde(rename = "o", with = "option_bits")]
    pub options: Options,
    /// Whether the SkyPilot profiles are tested.
    #[serde(rename = "s", default = "default_true")]
    pub include_skypilot: bool,
    /// The custom permission list (only valid names travel).
    #[serde(rename = "c", default, skip_serializing_if = "Vec::is_empty")]
    pub custom: Vec<Permission>,
    /// Bucket.
    #[serde(rename = "b", default, skip_serializing_if = "Option::is_none")]
    pub bucket: Option<BucketName>,
    /// Service account.
    #[serde(rename = "a", default, skip_serializing_if = "Option::is_none")]
    pub service_account: Option<ServiceAccountEmail>,
}

impl SharedQuestion {
    /// The plan this question asks for, when it names a project.
    pub fn plan(&self) -> Option<Plan> {
        let project = self.project.clone()?;
        Some(Plan::build(
            project,
            &PlanInput {
                options: self.options,
                custom: self.custom.clone(),
                skip_skypilot: !self.include_skypilot,
                bucket: self.bucket.clone(),
                service_account: self.service_account.clone(),
            },
        ))
    }

    /// The question a plan answers: `from_plan(p).plan() == Some(p)`.
    pub fn from_plan(plan: &Plan) -> SharedQuestion {
        SharedQuestion {
            project: Some(plan.project.clone()),
            options: plan.options,
            // Plan::build names SkyPilot's first-launch account exactly when its profiles are in.
            include_skypilot: plan.first_launch_account.is_some(),
            custom: plan
                .groups
                .iter()
                .filter(|g| g.source == super::catalog::Source::User)
                .flat_map(|g| g.permissions.iter().cloned())
                .collect(),
            bucket: plan.bucket.clone(),
            service_account: plan.service_account.clone(),
        }
    }

    /// The custom list as the form's text box holds it: one permission a line.
    pub fn custom_text(&self) -> String {
        let names: Vec<&str> = self.custom.iter().map(Permission::as_str).collect();
        names.join("\n")
    }
}

/// [`Options`] as bit flags: 1 the SkyPilot-docs mode, then custom VPC, reservations, open
/// ports, TPUs, clone disk, custom image, GCS mounts. An unknown bit is refused.
mod option_bits {
    use super::super::catalog::{Mode, Options};
    use serde::{Deserialize, Deserializer, Serializer};

    fn flags(o: &Options) -> [bool; 8] {
        [
            o.mode == Mode::SkyPilotDocs,
            o.custom_vpc,
            o.reservations,
            o.open_ports,
            o.tpus,
            o.clone_disk,
            o.custom_image,
            o.gcs_mounts,
        ]
    }

    pub fn serialize<S: Serializer>(options: &Options, s: S) -> Result<S::Ok, S::Error> {
        let bits = flags(options)
            .iter()
            .enumerate()
            .fold(0u32, |bits, (i, on)| bits | u32::from(*on) << i);
        s.serialize_u32(bits)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Options, D::Error> {
        let bits = u32::deserialize(d)?;
        if bits >= 1 << 8 {
            return Err(serde::de::Error::custom("unknown options"));
        }
        let on = |i: u32| bits & (1 << i) != 0;
        Ok(Options {
            mode: if on(0) {
                Mode::SkyPilotDocs
            } else {
                Mode::SkyCheckParity
            },
            custom_vpc: on(1),
            reservations: on(2),
            open_ports: on(3),
            tpus: on(4),
            clone_disk: on(5),
            custom_image: on(6),
            gcs_mounts: on(7),
        })
    }
}

/// What was found: the question, when, by whom (optional), and the answers. No token, no error
/// text (a result with a failed request cannot be shared: it is no verdict), no command.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SharedResult {
    /// What was checked (its project is required).
    #[serde(rename = "q")]
    pub question: SharedQuestion,
    /// When the check finished (ms since the epoch).
    #[serde(rename = "t")]
    pub checked_at_ms: u64,
    /// The account's email, only when the sender left "Include account email" on.
    #[serde(rename = "e", default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// The plan fingerprint the findings answer.
    #[serde(rename = "h")]
    pub fingerprint: String,
    /// The answers, in the cache's error-free form.
    #[serde(rename = "f")]
    pub findings: StoredFindings,
}

/// A result link read back and checked: ready to show.
#[derive(Clone, Debug, PartialEq)]
pub struct OpenedResult {
    /// The question (fills the form).
    pub question: SharedQuestion,
    /// The plan rebuilt from it.
    pub plan: Plan,
    /// The findings.
    pub findings: Findings,
    /// When the check finished.
    pub checked_at_ms: u64,
    /// The account's email, when shared.
    pub email: Option<String>,
}

impl SharedResult {
    /// The shareable form of a finished check; `None` when a request failed (an error is never
    /// a verdict, so it is not shared as one) or the plan has no project. The email is kept only
    /// when it matches the plain-email pattern.
    pub fn new(
        plan: &Plan,
        question: SharedQuestion,
        findings: &Findings,
        checked_at_ms: u64,
        email: Option<&str>,
    ) -> Option<SharedResult> {
        question.project.as_ref()?;
        Some(SharedResult {
            question,
            checked_at_ms,
            email: email.filter(|e| is_plain_email(e)).map(str::to_owned),
            fingerprint: plan.fingerprint.clone(),
            findings: StoredFindings::from_findings(findings)?,
        })
    }
}

/// Whether `text` holds something shaped like a credential: a Google access token (`ya29.`), a
/// refresh token (`1//0`), or a long run of token characters mixing upper case, lower case and
/// digits (see [`TOKEN_RUN_CHARS`]). Dots split runs: permission names are dotted camelCase.
pub fn token_shaped(text: &str) -> bool {
    if text.contains("ya29.") || text.contains("1//0") {
        return true;
    }
    let mut run = 0usize;
    let (mut upper, mut lower, mut digit) = (false, false, false);
    for c in text.chars().chain(std::iter::once(' ')) {
        if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '~' | '+' | '/' | '=') {
            run += 1;
            upper |= c.is_ascii_uppercase();
            lower |= c.is_ascii_lowercase();
            digit |= c.is_ascii_digit();
        } else {
            if run >= TOKEN_RUN_CHARS && upper && lower && digit {
                return true;
            }
            run = 0;
            (upper, lower, digit) = (false, false, false);
        }
    }
    false
}

const BASE64URL: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// RFC 4648 §5 base64url, without padding.
pub fn base64url(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, b)| n | u32::from(*b) << (16 - 8 * i));
        for i in 0..=chunk.len() {
            out.push(BASE64URL[(n >> (18 - 6 * i) & 63) as usize] as char);
        }
    }
    out
}

/// The bytes of unpadded base64url `text`; `None` for any other character or a cut-off length.
pub fn from_base64url(text: &str) -> Option<Vec<u8>> {
    if text.len() % 4 == 1 {
        return None;
    }
    let mut out = Vec::with_capacity(text.len() / 4 * 3 + 2);
    let (mut acc, mut bits) = (0u32, 0u32);
    for c in text.bytes() {
        let v = BASE64URL.iter().position(|&a| a == c)? as u32;
        acc = acc << 6 | v;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    // Leftover bits of a canonical encoding are zero.
    (acc == 0).then_some(out)
}

/// The JSON payload of a question, or [`LinkError::TokenShaped`] if any field holds something
/// token-shaped (a token pasted into the custom list, say): such a link is never made.
pub fn question_payload(question: &SharedQuestion) -> Result<Vec<u8>, LinkError> {
    checked_payload(super::json::to_string(question))
}

/// The JSON payload of a result; as [`question_payload`].
pub fn result_payload(result: &SharedResult) -> Result<Vec<u8>, LinkError> {
    checked_payload(super::json::to_string(result))
}

fn checked_payload(json: Result<String, super::json::JsonError>) -> Result<Vec<u8>, LinkError> {
    let bytes = json.map_err(|e| damaged(e.to_string()))?.into_bytes();
    if token_shaped(&String::from_utf8_lossy(&bytes)) {
        return Err(LinkError::TokenShaped);
    }
    Ok(seal(&bytes))
}

/// The 4-byte check of `json` (see the module documentation).
fn check_of(json: &[u8]) -> [u8; 4] {
    use std::hash::Hasher;
    let mut hasher = fnv::FnvHasher::default();
    hasher.write(json);
    (hasher.finish() as u32).to_be_bytes()
}

/// `json` with its check in front: the payload of a link.
pub fn seal(json: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(json.len() + 4);
    out.extend_from_slice(&check_of(json));
    out.extend_from_slice(json);
    out
}

/// The fragment (`#q1=…`) for `payload`, packed as `flag` says ([`RAW`] or [`DEFLATED`]).
pub fn fragment(kind: Kind, flag: u8, packed: &[u8]) -> String {
    let mut bytes = Vec::with_capacity(packed.len() + 1);
    bytes.push(flag);
    bytes.extend_from_slice(packed);
    format!("#{}={}", kind.key(), base64url(&bytes))
}

/// A link's payload, still packed: [`Packed::deflated`] says whether the caller inflates it
/// before [`read_question`] / [`read_result`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Packed {
    /// Which kind of link.
    pub kind: Kind,
    /// Whether the bytes are deflated.
    pub deflated: bool,
    /// The bytes after the flag.
    pub bytes: Vec<u8>,
}

/// Reads a location fragment (with or without its `#`). `Ok(None)`: not a share link at all (no
/// fragment, or an in-page anchor); such fragments are left alone, unless token-shaped.
pub fn unpack(fragment: &str) -> Result<Option<Packed>, LinkError> {
    let text = fragment.strip_prefix('#').unwrap_or(fragment);
    if text.is_empty() {
        return Ok(None);
    }
    if text.chars().count() > MAX_LINK_CHARS {
        return Err(LinkError::TooLong {
            size: text.chars().count(),
            cap: MAX_LINK_CHARS,
            unit: "characters",
        });
    }
    let mut found: Option<(Kind, &str)> = None;
    let mut other: Option<&str> = None;
    for part in text.split('&') {
        let (key, value) = part.split_once('=').unwrap_or((part, ""));
        let kind = match key {
            QUESTION_KEY => Some(Kind::Question),
            RESULT_KEY => Some(Kind::Result),
            _ => None,
        };
        match kind {
            Some(kind) if found.is_none() => found = Some((kind, value)),
            Some(_) => return Err(damaged("it holds two links")),
            None => {
                // Anything else beside our payload: an OAuth redirect (`access_token=`), or
                // something added to the link. Read for tokens, never used.
                let lowered = key.to_ascii_lowercase();
                if token_shaped(part) || lowered.contains("token") {
                    return Err(LinkError::TokenShaped);
                }
                other.get_or_insert(key);
            }
        }
    }
    let Some((kind, value)) = found else {
        return match other.and_then(future_key) {
            Some(key) => Err(LinkError::FutureVersion { key }),
            None => Ok(None),
        };
    };
    if let Some(key) = other {
        return Err(damaged(format!("unexpected part \"{}\"", short(key))));
    }
    let bytes = from_base64url(value).ok_or_else(|| damaged("not base64url"))?;
    let (flag, rest) = bytes.split_first().ok_or_else(|| damaged("empty"))?;
    let deflated = match *flag {
        RAW => false,
        DEFLATED => true,
        other => return Err(damaged(format!("unknown packing {other}"))),
    };
    Ok(Some(Packed {
        kind,
        deflated,
        bytes: rest.to_vec(),
    }))
}

/// `q2`, `r17`…: a link key of a later format.
fn future_key(key: &str) -> Option<String> {
    let (kind, version) = key.split_at_checked(1)?;
    let later = matches!(kind, "q" | "r")
        && !version.is_empty()
        && version.len() <= 4
        && version.bytes().all(|b| b.is_ascii_digit())
        && version.parse::<u32>().is_ok_and(|v| v > 1);
    later.then(|| key.to_owned())
}

/// The first few characters of something unexpected, for a message.
fn short(text: &str) -> String {
    let cut: String = text
        .chars()
        .take(24)
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        .collect();
    cut
}

/// The payload's JSON text, checked for size, tokens and its check before any field is read.
fn payload_text(bytes: &[u8]) -> Result<&str, LinkError> {
    if bytes.len() > MAX_PAYLOAD_BYTES {
        return Err(LinkError::TooLong {
            size: bytes.len(),
            cap: MAX_PAYLOAD_BYTES,
            unit: "bytes once decompressed",
        });
    }
    let (check, json) = bytes
        .split_first_chunk::<4>()
        .ok_or_else(|| damaged("it ends too early"))?;
    // Tokens first: a link carrying one is refused as such, whatever else is wrong with it.
    if token_shaped(&String::from_utf8_lossy(json)) {
        return Err(LinkError::TokenShaped);
    }
    if *check != check_of(json) {
        return Err(damaged("its check does not match its content"));
    }
    std::str::from_utf8(json).map_err(|_| damaged("not UTF-8"))
}

/// A question from its (inflated) payload.
pub fn read_question(bytes: &[u8]) -> Result<SharedQuestion, LinkError> {
    let text = payload_text(bytes)?;
    super::json::from_str(text).map_err(|e| damaged(field_error(&e)))
}

/// A result from its (inflated) payload: every name validated, the findings answering exactly
/// the plan rebuilt from its question.
pub fn read_result(bytes: &[u8]) -> Result<OpenedResult, LinkError> {
    let text = payload_text(bytes)?;
    let shared: SharedResult = super::json::from_str(text).map_err(|e| damaged(field_error(&e)))?;
    if let Some(email) = &shared.email {
        if !is_plain_email(email) {
            return Err(damaged("the account email is not an email address"));
        }
    }
    let f = &shared.findings;
    let services = f
        .apis
        .iter()
        .map(|(s, _)| s)
        .chain(f.grep_matches.iter().flat_map(|(a, b)| [a, b]));
    for service in services {
        if !is_api_service(service) {
            return Err(damaged("an API name is not a Google API"));
        }
    }
    if let Some(first) = &f.first_launch {
        if !first.roles.iter().all(|r| is_role_name(r)) {
            return Err(damaged("a role name is not one"));
        }
        if !first.networks.iter().all(|n| is_network_name(n)) {
            return Err(damaged("a network name is not one"));
        }
    }
    let plan = shared
        .question
        .plan()
        .ok_or_else(|| damaged("no project"))?;
    if plan.fingerprint != shared.fingerprint || !f.answers_plan(&plan) {
        return Err(LinkError::OtherPlan);
    }
    Ok(OpenedResult {
        findings: f.to_findings(),
        question: shared.question,
        plan,
        checked_at_ms: shared.checked_at_ms,
        email: shared.email,
    })
}

/// `roles/NAME` or `projects/P/roles/NAME` / `organizations/N/roles/NAME`.
fn is_role_name(text: &str) -> bool {
    let name = match text.split('/').collect::<Vec<_>>().as_slice() {
        ["roles", name] => *name,
        ["projects" | "organizations", parent, "roles", name] if is_network_name(parent) => *name,
        _ => return false,
    };
    !name.is_empty()
        && name.len() <= 128
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_'))
}

/// A VPC network (or project) name: lowercase letters, digits and hyphens (RFC 1035 labels).
fn is_network_name(text: &str) -> bool {
    !text.is_empty()
        && text.len() <= 63
        && is_dns_name(&format!("{text}.x"))
        && !text.contains(|c: char| c.is_ascii_uppercase())
}

/// serde's message, without echoing long input back.
fn field_error(e: &super::json::JsonError) -> String {
    let text = e.to_string();
    let cut: String = text.chars().take(160).collect();
    // serde_json says "EOF while parsing", the browser's JSON.parse "end of JSON input".
    if text.contains("EOF") || text.contains("end of JSON") {
        "it ends too early".into()
    } else {
        cut
    }
}

#[cfg(test)]
mod tests;
