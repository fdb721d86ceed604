//! One download: the body streamed to a file beside its place in the
//! cache, within the size limit, checked (its length against
//! `Content-Length`, its build id against the one asked for), then renamed
//! into place.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use ureq::Agent;

use crate::{verify, FetchError, Options};

/// How often the progress line is redrawn.
const PROGRESS_EVERY: Duration = Duration::from_millis(200);

/// A failed download: this server's fault, or the cache's (which no other
/// server can help with).
pub(crate) enum Failed {
    Fetch(FetchError),
    Cache(PathBuf, std::io::Error),
}

impl From<FetchError> for Failed {
    fn from(e: FetchError) -> Failed {
        Failed::Fetch(e)
    }
}

fn agent(o: &Options) -> Agent {
    Agent::config_builder()
        .timeout_connect(Some(o.timeout))
        .timeout_recv_response(Some(o.timeout))
        .timeout_per_read(Some(o.timeout))
        .timeout_global(o.max_time)
        .tls_config(
            ureq::tls::TlsConfig::builder()
                .root_certs(ureq::tls::RootCerts::PlatformVerifier)
                .build(),
        )
        .user_agent(concat!("kdive/", env!("CARGO_PKG_VERSION")))
        .build()
        .into()
}

/// Download `url` to `place`, a file of build id `id`.
pub(crate) fn download(url: &str, place: &Path, id: &str, o: &Options) -> Result<(), Failed> {
    let dir = place.parent().expect("a cache file is in a directory");
    std::fs::create_dir_all(dir).map_err(|e| Failed::Cache(dir.to_path_buf(), e))?;
    let mut response = agent(o).get(url).call().map_err(FetchError::from)?;
    let expected = response.body().content_length();
    if let Some(size) = expected.filter(|&s| s > o.max_size) {
        return Err(FetchError::TooBig {
            size,
            max: o.max_size,
        }
        .into());
    }
    let tmp = dir.join(format!(
        ".{}.{}.part",
        place.file_name().unwrap_or_default().to_string_lossy(),
        std::process::id()
    ));
    let result = (|| {
        let mut file = std::fs::File::create(&tmp).map_err(|e| Failed::Cache(tmp.clone(), e))?;
        let reader = response.body_mut().with_config().limit(o.max_size).reader();
        let got = copy(reader, &mut file, &tmp, url, expected, o.progress)?;
        file.flush().map_err(|e| Failed::Cache(tmp.clone(), e))?;
        if let Some(expected) = expected.filter(|&e| e != got) {
            return Err(FetchError::Truncated { got, expected }.into());
        }
        verify(&tmp, id)?;
        std::fs::rename(&tmp, place).map_err(|e| Failed::Cache(place.to_path_buf(), e))
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

/// Copy the body to `file`, with a progress line when asked; the bytes
/// copied.
fn copy(
    mut reader: impl Read,
    file: &mut std::fs::File,
    path: &Path,
    url: &str,
    total: Option<u64>,
    progress: bool,
) -> Result<u64, Failed> {
    let mut buf = vec![0u8; 1 << 16];
    let mut got = 0u64;
    let mut shown = Instant::now();
    loop {
        let n = match reader.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(read_error(e, got, total).into()),
        };
        file.write_all(&buf[..n])
            .map_err(|e| Failed::Cache(path.to_path_buf(), e))?;
        got += n as u64;
        if progress && shown.elapsed() >= PROGRESS_EVERY {
            shown = Instant::now();
            let of = total.map(|t| format!(" of {}", mib(t))).unwrap_or_default();
            eprint!("\r\x1b[Kdebuginfod: {url}: {}{of}", mib(got));
        }
    }
    if progress {
        eprint!("\r\x1b[K");
    }
    Ok(got)
}

/// A read error as what it means: ureq's own errors (the size limit, a
/// body shorter than its `Content-Length`) come wrapped in `io::Error`.
fn read_error(e: std::io::Error, got: u64, total: Option<u64>) -> FetchError {
    let inner = e.get_ref().and_then(|i| i.downcast_ref::<ureq::Error>());
    match (inner, total) {
        (Some(ureq::Error::BodyExceedsLimit(max)), _) => FetchError::TooBig {
            size: got.max(*max + 1),
            max: *max,
        },
        (_, Some(expected)) if e.kind() == std::io::ErrorKind::UnexpectedEof || got < expected => {
            FetchError::Truncated { got, expected }
        }
        _ => match e.into_inner().map(|i| i.downcast::<ureq::Error>()) {
            Some(Ok(u)) => FetchError::from(*u),
            Some(Err(other)) => {
                FetchError::Http(Box::new(ureq::Error::Io(std::io::Error::other(other))))
            }
            None => FetchError::Truncated {
                got,
                expected: total.unwrap_or(got),
            },
        },
    }
}

fn mib(bytes: u64) -> String {
    format!("{:.1} MiB", bytes as f64 / (1u64 << 20) as f64)
}
