//! A debuginfod client: the debuginfo (or the executable) of a GNU build
//! id, from the servers `DEBUGINFOD_URLS` names, through the local cache
//! elfutils keeps, in elfutils' layout, so that both share it.
//!
//! - Servers: `DEBUGINFOD_URLS`, separated by spaces, tried in order; the
//!   protocol's `GET URL/buildid/HEXID/debuginfo` and `.../executable`.
//!   Unset or empty: no client ([`Client::from_env`] gives `None`), so
//!   nothing goes over the network unless asked for.
//! - Cache ([`cache_dir`]): `$DEBUGINFOD_CACHE_PATH`, else
//!   `$XDG_CACHE_HOME/debuginfod_client`, else `~/.cache/debuginfod_client`;
//!   a file is `CACHE/HEXID/debuginfo` (or `executable`).
//! - Limits, as elfutils reads them: `DEBUGINFOD_TIMEOUT` seconds to
//!   connect and between reads (default 90), `DEBUGINFOD_MAXTIME` seconds
//!   for a whole download (default none), `DEBUGINFOD_MAXSIZE` bytes
//!   (default 4 GiB).
//! - Every file, downloaded or from the cache, is checked to be an ELF file
//!   of the build id asked for before it is returned; a download is written
//!   beside its place and renamed there only then. Nothing downloaded is
//!   run.
//! - A progress line on stderr when it is a terminal.

mod cache;
mod fetch;

use std::path::PathBuf;
use std::time::Duration;

use kdive_debuginfo::{ElfError, ElfFile};
use thiserror::Error;

pub use cache::cache_dir;

/// The largest download by default.
pub const DEFAULT_MAX_SIZE: u64 = 4 << 30;

/// Seconds to connect and between two reads, by default (elfutils' too).
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(90);

/// What is fetched for a build id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Artifact {
    /// The file with DWARF (for a kernel, the vmlinux of its `-dbg`
    /// package).
    Debuginfo,
    /// The executable itself.
    Executable,
}

impl Artifact {
    /// Its name in URLs and in the cache.
    pub fn name(self) -> &'static str {
        match self {
            Artifact::Debuginfo => "debuginfo",
            Artifact::Executable => "executable",
        }
    }
}

/// How downloads are made.
#[derive(Debug, Clone)]
pub struct Options {
    /// To connect, and between two reads.
    pub timeout: Duration,
    /// For a whole download.
    pub max_time: Option<Duration>,
    /// The largest file taken, in bytes.
    pub max_size: u64,
    /// Show a progress line on stderr.
    pub progress: bool,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            timeout: DEFAULT_TIMEOUT,
            max_time: None,
            max_size: DEFAULT_MAX_SIZE,
            progress: false,
        }
    }
}

/// A client: servers, a cache, limits.
#[derive(Debug, Clone)]
pub struct Client {
    urls: Vec<String>,
    cache: PathBuf,
    options: Options,
}

/// Why a file could not be had.
#[derive(Debug, Error)]
pub enum DebuginfodError {
    #[error("{0:?} is not a build id (an even number of hexadecimal digits)")]
    BadBuildId(String),
    #[error(
        "no cache directory for debuginfod: set DEBUGINFOD_CACHE_PATH, XDG_CACHE_HOME or HOME"
    )]
    NoCacheDir,
    #[error("{var}={value:?}: not a number")]
    BadSetting { var: &'static str, value: String },
    #[error("debuginfod cache {path}: {source}")]
    Cache {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{what} of build id {build_id} not found by debuginfod{}", attempts_text(.attempts))]
    NotFound {
        build_id: String,
        what: &'static str,
        attempts: Vec<Attempt>,
    },
}

/// One server tried, and what went wrong there.
#[derive(Debug)]
pub struct Attempt {
    pub url: String,
    pub error: FetchError,
}

fn attempts_text(attempts: &[Attempt]) -> String {
    attempts
        .iter()
        .map(|a| format!("; {}: {}", a.url, a.error))
        .collect()
}

/// Why one download failed.
#[derive(Debug, Error)]
pub enum FetchError {
    #[error("not there (HTTP 404)")]
    NotThere,
    #[error("HTTP status {0}")]
    Status(u16),
    #[error(transparent)]
    Http(Box<ureq::Error>),
    #[error("{size} bytes, more than the limit of {max} (DEBUGINFOD_MAXSIZE)")]
    TooBig { size: u64, max: u64 },
    #[error("truncated: {got} of {expected} bytes")]
    Truncated { got: u64, expected: u64 },
    #[error("not an ELF file: {0}")]
    NotElf(#[from] ElfError),
    #[error("the file has no build id")]
    NoBuildId,
    #[error("the file's build id is {found}, not the one asked for")]
    WrongBuildId { found: String },
    #[error("writing {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

impl From<ureq::Error> for FetchError {
    fn from(e: ureq::Error) -> FetchError {
        match e {
            ureq::Error::StatusCode(404) => FetchError::NotThere,
            ureq::Error::StatusCode(s) => FetchError::Status(s),
            ureq::Error::BodyExceedsLimit(max) => FetchError::TooBig { size: max + 1, max },
            e => FetchError::Http(Box::new(e)),
        }
    }
}

impl Client {
    /// A client for `urls` (servers' base URLs) with its cache at `cache`.
    pub fn new(urls: Vec<String>, cache: PathBuf, options: Options) -> Client {
        Client {
            urls,
            cache,
            options,
        }
    }

    /// The client the environment asks for: `None` when `DEBUGINFOD_URLS`
    /// is unset or names no server.
    pub fn from_env() -> Result<Option<Client>, DebuginfodError> {
        let urls: Vec<String> = std::env::var("DEBUGINFOD_URLS")
            .unwrap_or_default()
            .split_whitespace()
            .map(str::to_string)
            .collect();
        if urls.is_empty() {
            return Ok(None);
        }
        let seconds = |var: &'static str| -> Result<Option<u64>, DebuginfodError> {
            match std::env::var(var) {
                Ok(v) if !v.trim().is_empty() => v
                    .trim()
                    .parse()
                    .map(Some)
                    .map_err(|_| DebuginfodError::BadSetting { var, value: v }),
                _ => Ok(None),
            }
        };
        let options = Options {
            timeout: seconds("DEBUGINFOD_TIMEOUT")?.map_or(DEFAULT_TIMEOUT, Duration::from_secs),
            max_time: seconds("DEBUGINFOD_MAXTIME")?
                .filter(|&s| s > 0)
                .map(Duration::from_secs),
            max_size: seconds("DEBUGINFOD_MAXSIZE")?
                .filter(|&s| s > 0)
                .unwrap_or(DEFAULT_MAX_SIZE),
            progress: std::io::IsTerminal::is_terminal(&std::io::stderr()),
        };
        let cache = cache_dir().ok_or(DebuginfodError::NoCacheDir)?;
        Ok(Some(Client::new(urls, cache, options)))
    }

    /// The servers, in the order they are tried.
    pub fn urls(&self) -> &[String] {
        &self.urls
    }

    /// The file `what` of `build_id`: from the cache when it is there and
    /// right, else downloaded from the first server that has it.
    pub fn fetch(&self, build_id: &str, what: Artifact) -> Result<PathBuf, DebuginfodError> {
        let id = build_id.to_ascii_lowercase();
        if id.len() < 2 || id.len() % 2 != 0 || !id.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(DebuginfodError::BadBuildId(build_id.to_string()));
        }
        let place = self.cache.join(&id).join(what.name());
        if verify(&place, &id).is_ok() {
            return Ok(place);
        }
        let mut attempts = Vec::new();
        for url in &self.urls {
            let full = format!("{}/buildid/{id}/{}", url.trim_end_matches('/'), what.name());
            match fetch::download(&full, &place, &id, &self.options) {
                Ok(()) => return Ok(place),
                Err(fetch::Failed::Cache(path, source)) => {
                    return Err(DebuginfodError::Cache { path, source })
                }
                Err(fetch::Failed::Fetch(error)) => attempts.push(Attempt { url: full, error }),
            }
        }
        Err(DebuginfodError::NotFound {
            build_id: id,
            what: what.name(),
            attempts,
        })
    }
}

/// Whether the file at `path` is an ELF file of build id `id`.
pub(crate) fn verify(path: &std::path::Path, id: &str) -> Result<(), FetchError> {
    let elf = ElfFile::open(path)?;
    match elf.build_id()? {
        Some(found) if found.eq_ignore_ascii_case(id) => Ok(()),
        Some(found) => Err(FetchError::WrongBuildId { found }),
        None => Err(FetchError::NoBuildId),
    }
}
