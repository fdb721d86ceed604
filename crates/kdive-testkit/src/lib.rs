//! Where the tests find real dumps.
//!
//! A corpus is a folder `ROOT/linux-RELEASE/SCENARIO/` holding one crash in
//! one or more variants (`vmcore.kdump-zlib`, `vmcore.elf`, ...) beside what
//! other tools printed on it. Roots, in order:
//!
//! - `KDIVE_CORPUS` when set (then only it);
//! - otherwise `../shared/corpus` beside the repository, when it exists;
//! - and the corpus `scripts/mkcorpus.sh` builds, `KDIVE_BUILT_CORPUS`
//!   (default `/var/tmp/kdive-corpus`), when it exists.
//!
//! Tests that need dumps call [`require`]: with none found it fails the test,
//! unless `KDIVE_ALLOW_NO_CORPUS=1` says a run without dumps is intended.

use std::path::{Path, PathBuf};

pub mod elf;
pub mod http;
pub mod session;
pub use session::{run_marked, run_marked_cmd, sections, Marked};

/// The default root of the corpus the project builds itself.
pub const DEFAULT_BUILT_CORPUS: &str = "/var/tmp/kdive-corpus";

/// One crash, in the variants found for it.
#[derive(Debug, Clone)]
pub struct Crash {
    /// `linux-RELEASE` folder name.
    pub kernel: String,
    /// Scenario folder name (`slab`, `sysrq`, ...).
    pub scenario: String,
    pub dir: PathBuf,
    /// `(variant, path)`, the variant being the file name after `vmcore.`.
    pub variants: Vec<(String, PathBuf)>,
}

impl Crash {
    pub fn variant(&self, name: &str) -> Option<&Path> {
        self.variants
            .iter()
            .find(|(v, _)| v == name)
            .map(|(_, p)| p.as_path())
    }

    /// A file beside the dump (`crash.txt`, `dmesg.txt`, `crashme.ko`, ...).
    pub fn file(&self, name: &str) -> Option<PathBuf> {
        let p = self.dir.join(name);
        p.exists().then_some(p)
    }

    /// The kernel's release (`kernel` without `linux-`).
    pub fn release(&self) -> &str {
        self.kernel.strip_prefix("linux-").unwrap_or(&self.kernel)
    }

    /// kdive's arguments to open `dump` with its vmlinux where the tests
    /// know one ([`vmlinux_candidates`]: kdive itself does not look among
    /// the unpacked kernels of other suites), else `dump` alone.
    pub fn open_args(&self, dump: &str) -> Vec<String> {
        let vmlinux = vmlinux_candidates(self.release())
            .into_iter()
            .find(|p| p.is_file());
        vmlinux
            .map(|v| v.to_string_lossy().into_owned())
            .into_iter()
            .chain([dump.to_string()])
            .collect()
    }

    /// `kernel/scenario`, for messages.
    pub fn name(&self) -> String {
        format!("{}/{}", self.kernel, self.scenario)
    }
}

/// The repository root (this crate lives at `crates/kdive-testkit`).
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(2)
        .expect("crate inside the repository")
        .to_path_buf()
}

/// The corpus roots that exist.
pub fn roots() -> Vec<PathBuf> {
    if let Some(c) = std::env::var_os("KDIVE_CORPUS") {
        return vec![PathBuf::from(c)];
    }
    let shared = repo_root().join("../shared/corpus");
    let built = std::env::var_os("KDIVE_BUILT_CORPUS")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(DEFAULT_BUILT_CORPUS));
    [shared, built].into_iter().filter(|p| p.is_dir()).collect()
}

/// Every crash under every root.
pub fn crashes() -> Vec<Crash> {
    let mut out = Vec::new();
    for root in roots() {
        for kernel in sorted_dirs(&root) {
            for dir in sorted_dirs(&kernel) {
                let mut variants: Vec<(String, PathBuf)> = std::fs::read_dir(&dir)
                    .into_iter()
                    .flatten()
                    .flatten()
                    .filter_map(|e| {
                        let name = e.file_name().into_string().ok()?;
                        let v = name.strip_prefix("vmcore.")?.to_string();
                        Some((v, e.path()))
                    })
                    .collect();
                if variants.is_empty() {
                    continue;
                }
                variants.sort();
                out.push(Crash {
                    kernel: file_name(&kernel),
                    scenario: file_name(&dir),
                    dir,
                    variants,
                });
            }
        }
    }
    out
}

/// The crashes, or a failed test when there are none (unless allowed).
/// Returns an empty list only when `KDIVE_ALLOW_NO_CORPUS=1`.
pub fn require(what: &str) -> Vec<Crash> {
    let found = crashes();
    if found.is_empty() {
        if std::env::var_os("KDIVE_ALLOW_NO_CORPUS").is_some_and(|v| v == "1") {
            eprintln!("skipping {what}: no corpus (KDIVE_ALLOW_NO_CORPUS=1)");
        } else {
            panic!(
                "{what}: no corpus of dumps found (looked at {:?}); set KDIVE_CORPUS, \
                 build one with scripts/mkcorpus.sh, or set KDIVE_ALLOW_NO_CORPUS=1",
                candidate_roots()
            );
        }
    }
    found
}

fn candidate_roots() -> Vec<PathBuf> {
    match std::env::var_os("KDIVE_CORPUS") {
        Some(c) => vec![PathBuf::from(c)],
        None => vec![
            repo_root().join("../shared/corpus"),
            std::env::var_os("KDIVE_BUILT_CORPUS")
                .map(PathBuf::from)
                .unwrap_or_else(|| PathBuf::from(DEFAULT_BUILT_CORPUS)),
        ],
    }
}

fn sorted_dirs(p: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(p)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.is_dir())
        .collect();
    v.sort();
    v
}

fn file_name(p: &Path) -> String {
    p.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// The Python that imports drgn, the independent reader some tests compare
/// with: `KDIVE_DRGN_PYTHON`, else the venv `scripts/test.sh` makes
/// (`/var/tmp/kdive-drgn-venv`), else `/opt/drgn-venv`, else `python3`.
/// `Err` says what was tried and how to get one.
pub fn drgn_python() -> Result<PathBuf, String> {
    static PY: std::sync::OnceLock<Result<PathBuf, String>> = std::sync::OnceLock::new();
    PY.get_or_init(|| {
        let tried: Vec<PathBuf> = match std::env::var_os("KDIVE_DRGN_PYTHON") {
            Some(p) => vec![PathBuf::from(p)],
            None => vec![
                "/var/tmp/kdive-drgn-venv/bin/python".into(),
                "/opt/drgn-venv/bin/python".into(),
                "python3".into(),
            ],
        };
        tried
            .iter()
            .find(|p| imports_drgn(p))
            .cloned()
            .ok_or_else(|| {
                format!(
                    "no Python that imports drgn (tried {tried:?}); set KDIVE_DRGN_PYTHON to one \
                 (python3 -m venv V && V/bin/pip install drgn), or KDIVE_ALLOW_NO_DRGN=1 to \
                 skip the checks with drgn"
                )
            })
    })
    .clone()
}

fn imports_drgn(python: &Path) -> bool {
    std::process::Command::new(python)
        .args(["-c", "import drgn"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Whether an `KDIVE_ALLOW_*` switch is set to 1.
pub fn allowed(var: &str) -> bool {
    std::env::var_os(var).is_some_and(|v| v == "1")
}

/// Every command named `name` in the corpus's `crash.txt` files (each
/// command's output follows a line `@@@ crash> COMMAND`; a marker may also
/// follow output that had no final newline), as `(command, output)`.
/// Fails the test when there is no corpus, as [`require`] does.
pub fn crash_transcripts(name: &str) -> Vec<(String, String)> {
    let mut found = Vec::new();
    for crash in require(&format!("crash.txt transcripts of {name}")) {
        let Some(path) = crash.file("crash.txt") else {
            continue;
        };
        let Ok(text) = std::fs::read_to_string(path) else {
            continue;
        };
        for block in text.split("@@@ crash> ").skip(1) {
            let (cmd, output) = block.split_once('\n').unwrap_or((block, ""));
            if cmd.split_whitespace().next() == Some(name) {
                found.push((cmd.to_string(), output.to_string()));
            }
        }
    }
    found
}

/// Where `scripts/fetch-kernel.sh` unpacks kernels of other Debian suites
/// when `KDIVE_KERNELS` is unset: `DIR/RELEASE/` holds the packages' files.
pub const DEFAULT_KERNELS: &str = "/var/tmp/kdive-kernels";

/// The places the vmlinux with debuginfo of `release` is looked for, in
/// order: where Debian installs it (`/usr/lib/debug/boot`, or
/// `KDIVE_VMLINUX_DIR`), then in the unpacked packages of a kernel of
/// another suite (`$KDIVE_KERNELS/RELEASE/usr/lib/debug/boot`, default
/// `/var/tmp/kdive-kernels`).
pub fn vmlinux_candidates(release: &str) -> Vec<PathBuf> {
    let dir = std::env::var_os("KDIVE_VMLINUX_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/usr/lib/debug/boot"));
    let kernels = std::env::var_os("KDIVE_KERNELS")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(DEFAULT_KERNELS));
    let name = format!("vmlinux-{release}");
    vec![
        dir.join(&name),
        kernels.join(release).join("usr/lib/debug/boot").join(&name),
    ]
}

/// The vmlinux with debuginfo of `release` (see [`vmlinux_candidates`]).
/// `None`, with a message, when there is none and
/// `KDIVE_ALLOW_NO_VMLINUX=1`; a failed test otherwise.
pub fn vmlinux(release: &str) -> Option<PathBuf> {
    let tried = vmlinux_candidates(release);
    if let Some(p) = tried.iter().find(|p| p.is_file()) {
        return Some(p.clone());
    }
    let tried: Vec<String> = tried.iter().map(|p| p.display().to_string()).collect();
    let tried = tried.join(" nor ");
    if allowed("KDIVE_ALLOW_NO_VMLINUX") {
        eprintln!("skipping: no {tried} (KDIVE_ALLOW_NO_VMLINUX=1)");
        return None;
    }
    panic!(
        "no {tried}: apt-get install linux-image-{release}-dbg, or for a kernel of \
         another Debian suite scripts/fetch-kernel.sh {release}; or set \
         KDIVE_ALLOW_NO_VMLINUX=1 to skip the comparison"
    );
}
