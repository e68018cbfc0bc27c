//! What the page and its SkyPilot-file worker say to each other. The YAML parser
//! ([`super::skyfiles::read`]) is big (+60 KB gzip), so the browser runs it in a web worker
//! (`src/bin/skyfiles_worker.rs`) that is fetched only when a file is first pasted or dropped:
//! the page sends a [`ReadRequest`] and gets a [`ReadReply`], both as JSON text.
//!
//! The page links only the types and [`ReadRequest::to_json`] / [`ReadReply::from_json`];
//! [`answer`] (and with it the parser) is linked only into the worker.

use super::skyfiles::{self, FileKind, SkyFile, SkyFiles, YamlError};
use serde::{Deserialize, Serialize};

/// The display names the files get in every source line ("from config.yaml: gcp.vpc_name").
pub const CONFIG_NAME: &str = "config.yaml";
/// See [`CONFIG_NAME`].
pub const TASK_NAME: &str = "task.yaml";

pub use super::worker_wire::READY;

/// The texts of the two fields, tagged so a late answer to older texts can be told apart.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReadRequest {
    /// Which edit of the fields this is (the page drops replies to older ones).
    pub generation: u32,
    /// `~/.sky/config.yaml` as pasted (may be empty).
    pub config: String,
    /// Task YAML(s) as pasted (may be empty).
    pub task: String,
}

/// What the files say, or the first YAML error (line and column), for one [`ReadRequest`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReadReply {
    /// The request's [`ReadRequest::generation`].
    pub generation: u32,
    /// The reading.
    pub read: Result<SkyFiles, YamlError>,
}

impl ReadRequest {
    /// The message text posted to the worker.
    pub fn to_json(&self) -> String {
        super::json::to_string(self).unwrap_or_default()
    }
}

impl ReadReply {
    /// Parses the worker's answer; `None` if it is not one (never expected).
    pub fn from_json(text: &str) -> Option<ReadReply> {
        super::json::from_str(text).ok()
    }
}

/// Reads the files of a request (an empty text is left out), as the worker does.
pub fn read_request(request: &ReadRequest) -> ReadReply {
    let files: Vec<SkyFile<'_>> = [
        (CONFIG_NAME, FileKind::Config, request.config.as_str()),
        (TASK_NAME, FileKind::Task, request.task.as_str()),
    ]
    .into_iter()
    .filter(|(_, _, text)| !text.trim().is_empty())
    .map(|(name, kind, text)| SkyFile { name, kind, text })
    .collect();
    ReadReply {
        generation: request.generation,
        read: skyfiles::read(&files),
    }
}

/// The worker's whole job: a request's JSON in, the reply's JSON out. A message that is not a
/// request gets an error reply (generation 0, which the page never sends), never a panic.
pub fn answer(request_json: &str) -> String {
    let reply = match super::json::from_str::<ReadRequest>(request_json) {
        Ok(request) => read_request(&request),
        Err(e) => ReadReply {
            generation: 0,
            read: Err(YamlError {
                file: "request".to_owned(),
                // The browser's JSON.parse names no position; the page never sends such a message.
                line: 0,
                column: 0,
                message: format!("not a SkyPilot-file request: {e}"),
            }),
        },
    };
    super::json::to_string(&reply).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(generation: u32, config: &str, task: &str) -> ReadRequest {
        ReadRequest {
            generation,
            config: config.to_owned(),
            task: task.to_owned(),
        }
    }

    #[test]
    fn a_request_round_trips_to_the_same_reading_as_a_direct_read() {
        let config = "gcp:\n  vpc_name: default\njobs:\n  bucket: gs://b-1/jobs\n";
        let task = "resources:\n  cloud: gcp\n  ports: 8080\n";
        let reply = ReadReply::from_json(&answer(&request(7, config, task).to_json())).unwrap();
        assert_eq!(reply.generation, 7);
        let direct = skyfiles::read(&[
            SkyFile {
                name: CONFIG_NAME,
                kind: FileKind::Config,
                text: config,
            },
            SkyFile {
                name: TASK_NAME,
                kind: FileKind::Task,
                text: task,
            },
        ]);
        assert_eq!(reply.read, direct);
        let sky = reply.read.unwrap();
        assert!(sky.options.custom_vpc && sky.options.open_ports);
        assert_eq!(sky.buckets[0].0.as_str(), "b-1");
        assert_eq!(
            sky.origin_of(skyfiles::Setting::CustomVpc)
                .unwrap()
                .to_string(),
            "config.yaml: gcp.vpc_name"
        );
    }

    #[test]
    fn a_yaml_error_keeps_its_file_line_and_column() {
        let bad = "name: broken\nresources:\n  cloud: gcp\n  accelerators: {tpu-v4-8: 1\nrun: x\n";
        let reply = ReadReply::from_json(&answer(&request(3, "", bad).to_json())).unwrap();
        assert_eq!(reply.generation, 3);
        let error = reply.read.unwrap_err();
        assert_eq!(
            (error.file.as_str(), error.line, error.column),
            ("task.yaml", 5, 4)
        );
    }

    #[test]
    fn empty_texts_are_left_out() {
        let reply = read_request(&request(1, "  \n", "resources:\n  cloud: aws\n"));
        let sky = reply.read.unwrap();
        assert!(matches!(sky.target, Some(skyfiles::GcpTarget::NotGcp(_))));
        assert!(sky.derivations.iter().all(|d| d.origin.file == TASK_NAME));
    }

    #[test]
    fn a_message_that_is_not_a_request_is_an_error_reply_not_a_panic() {
        for junk in ["", "null", "{\"generation\": \"x\"}", "[1,2]"] {
            let reply = ReadReply::from_json(&answer(junk)).unwrap();
            assert_eq!(reply.generation, 0);
            assert!(reply
                .read
                .unwrap_err()
                .message
                .contains("not a SkyPilot-file request"));
        }
    }
}
