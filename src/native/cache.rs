//! [`FileStore`]: the browser's cache rules ([`crate::core::cache`]) over files in the user's
//! cache directory (`~/.cache/gcp-preflight` on Linux), one file per entry, readable by the
//! user only. Entries hold no token and no email, as in the browser.

use crate::core::cache::{Store, StoreError};
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

/// Environment variable overriding the cache directory (tests, or a shared machine).
pub const CACHE_DIR_ENV: &str = "GCP_PREFLIGHT_CACHE_DIR";

/// A [`Store`] of one file per key in a directory.
#[derive(Debug)]
pub struct FileStore {
    dir: PathBuf,
}

/// The cache directory: [`CACHE_DIR_ENV`], or the platform's user cache directory.
pub fn default_dir(var: impl Fn(&str) -> Option<String>) -> Option<PathBuf> {
    if let Some(dir) = var(CACHE_DIR_ENV).filter(|d| !d.is_empty()) {
        return Some(PathBuf::from(dir));
    }
    use etcetera::BaseStrategy;
    etcetera::choose_base_strategy()
        .ok()
        .map(|s| s.cache_dir().join("gcp-preflight"))
}

/// Keys are `gcp-preflight/v1/<account>/<project>/<fingerprint>`: hex makes any key a safe name.
fn file_name(key: &str) -> String {
    let mut name: String = key.bytes().map(|b| format!("{b:02x}")).collect();
    name.push_str(".json");
    name
}

fn key_of(file_name: &str) -> Option<String> {
    let hex = file_name.strip_suffix(".json")?;
    if hex.len() % 2 != 0 {
        return None;
    }
    let bytes: Option<Vec<u8>> = (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(hex.get(i..i + 2)?, 16).ok())
        .collect();
    String::from_utf8(bytes?).ok()
}

impl FileStore {
    /// Opens (and creates, private to the user) the directory.
    pub fn open(dir: &Path) -> std::io::Result<FileStore> {
        fs::create_dir_all(dir)?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            fs::set_permissions(dir, fs::Permissions::from_mode(0o700))?;
        }
        Ok(FileStore {
            dir: dir.to_owned(),
        })
    }

    fn path(&self, key: &str) -> PathBuf {
        self.dir.join(file_name(key))
    }
}

impl Store for FileStore {
    fn get(&self, key: &str) -> Option<String> {
        fs::read_to_string(self.path(key)).ok()
    }

    fn set(&self, key: &str, value: &str) -> Result<(), StoreError> {
        // Written aside and renamed: a reader never sees half an entry.
        let path = self.path(key);
        let tmp = path.with_extension(format!("tmp{}", std::process::id()));
        let write = || -> std::io::Result<()> {
            let mut options = fs::OpenOptions::new();
            options.write(true).create(true).truncate(true);
            #[cfg(unix)]
            {
                use std::os::unix::fs::OpenOptionsExt;
                options.mode(0o600);
            }
            let mut file = options.open(&tmp)?;
            file.write_all(value.as_bytes())?;
            file.sync_all()?;
            fs::rename(&tmp, &path)
        };
        write().map_err(|e| {
            let _ = fs::remove_file(&tmp);
            StoreError::Unavailable(e.to_string())
        })
    }

    fn remove(&self, key: &str) {
        let _ = fs::remove_file(self.path(key));
    }

    fn keys(&self) -> Vec<String> {
        let Ok(dir) = fs::read_dir(&self.dir) else {
            return Vec::new();
        };
        dir.filter_map(|e| e.ok())
            .filter_map(|e| key_of(&e.file_name().to_string_lossy()))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_round_trip_and_are_listed_by_key() {
        let dir = std::env::temp_dir().join(format!("gcp-preflight-store-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        let store = FileStore::open(&dir).unwrap();
        let key = "gcp-preflight/v1/123/my-project/abcdef";
        assert_eq!(store.get(key), None);
        store.set(key, "{\"a\":1}").unwrap();
        assert_eq!(store.get(key).as_deref(), Some("{\"a\":1}"));
        assert_eq!(store.keys(), [key]);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(store.path(key)).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        store.remove(key);
        assert!(store.keys().is_empty());
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn the_directory_can_be_overridden() {
        let var = |k: &str| (k == CACHE_DIR_ENV).then(|| "/tmp/x".to_owned());
        assert_eq!(default_dir(var), Some(PathBuf::from("/tmp/x")));
        assert!(default_dir(|_| None).is_some());
    }
}
