//! The client against a server on 127.0.0.1: a file found on the second
//! server after a 404 on the first, then from the cache; and refused when
//! its build id is another, when it is cut short, when it is too big.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use kdive_debuginfod::{Artifact, Client, DebuginfodError, FetchError, Options};
use kdive_testkit::elf::{ElfWriter, ET_REL, FUNC, SHT_PROGBITS};
use kdive_testkit::http::{Reply, Server};

const ID: &str = "b41013a198fc81f655087b0bef5afb64ed7700ce";

fn elf_with_id(id: &[u8]) -> Vec<u8> {
    let mut w = ElfWriter::new();
    let s = w.section(".debug_info", SHT_PROGBITS, 0, 0, &[0u8; 4096]);
    w.build_id(id);
    w.symbol("f", 0, 1, FUNC, s);
    w.finish(ET_REL)
}

fn id_bytes(hex: &str) -> Vec<u8> {
    (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
        .collect()
}

fn cache(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("kdive-debuginfod-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    d
}

fn client(urls: &[&str], cache: &Path, max_size: u64) -> Client {
    let options = Options {
        max_size,
        ..Options::default()
    };
    Client::new(
        urls.iter().map(|u| u.to_string()).collect(),
        cache.to_path_buf(),
        options,
    )
}

fn route(what: &str, reply: Reply) -> HashMap<String, Reply> {
    HashMap::from([(format!("/buildid/{ID}/{what}"), reply)])
}

/// The failure of the one server tried.
fn only_failure(e: DebuginfodError) -> FetchError {
    match e {
        DebuginfodError::NotFound { mut attempts, .. } if attempts.len() == 1 => {
            attempts.remove(0).error
        }
        e => panic!("not one failed attempt: {e}"),
    }
}

/// Nothing left in the cache: no file in place, no partial download.
fn nothing_kept(cache: &Path) {
    let left: Vec<_> = std::fs::read_dir(cache.join(ID))
        .map(|d| d.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    assert!(left.is_empty(), "{left:?}");
}

#[test]
fn found_on_the_second_server_then_cached() {
    let file = elf_with_id(&id_bytes(ID));
    let empty = Server::start(HashMap::new());
    let full = Server::start(route("debuginfo", Reply::Bytes(file.clone())));
    let c = cache("found");
    let cl = client(&[empty.url(), &format!("{}/", full.url())], &c, 1 << 20);
    let p = cl.fetch(&ID.to_uppercase(), Artifact::Debuginfo).unwrap();
    assert_eq!(p, c.join(ID).join("debuginfo"), "elfutils' layout");
    assert_eq!(std::fs::read(&p).unwrap(), file);
    assert_eq!(empty.hits(), [format!("/buildid/{ID}/debuginfo")]);
    // From the cache: no server asked again.
    assert_eq!(cl.fetch(ID, Artifact::Debuginfo).unwrap(), p);
    assert_eq!(full.hits().len(), 1);
    assert_eq!(empty.hits().len(), 1);
    // A damaged cache file is fetched again.
    std::fs::write(&p, b"not ELF").unwrap();
    assert_eq!(cl.fetch(ID, Artifact::Debuginfo).unwrap(), p);
    assert_eq!(std::fs::read(&p).unwrap(), file);
    assert_eq!(full.hits().len(), 2);
    // The executable is another file.
    let e = cl.fetch(ID, Artifact::Executable).unwrap_err();
    assert!(e.to_string().contains("executable of build id"), "{e}");
    assert_eq!(
        full.hits().last().unwrap(),
        &format!("/buildid/{ID}/executable")
    );
    let _ = std::fs::remove_dir_all(&c);
}

#[test]
fn not_found_anywhere() {
    let s = Server::start(HashMap::new());
    let c = cache("404");
    let e = only_failure(
        client(&[s.url()], &c, 1 << 20)
            .fetch(ID, Artifact::Debuginfo)
            .unwrap_err(),
    );
    assert!(matches!(e, FetchError::NotThere), "{e}");
    nothing_kept(&c);
}

#[test]
fn another_build_id_is_refused() {
    let s = Server::start(route("debuginfo", Reply::Bytes(elf_with_id(&[0x11; 20]))));
    let c = cache("wrongid");
    let e = only_failure(
        client(&[s.url()], &c, 1 << 20)
            .fetch(ID, Artifact::Debuginfo)
            .unwrap_err(),
    );
    assert!(
        matches!(&e, FetchError::WrongBuildId { found } if found == &"11".repeat(20)),
        "{e}"
    );
    nothing_kept(&c);
}

#[test]
fn a_cut_download_is_refused() {
    let file = elf_with_id(&id_bytes(ID));
    let body = file[..file.len() / 2].to_vec();
    let s = Server::start(route(
        "debuginfo",
        Reply::Truncated {
            body,
            claimed: file.len() as u64,
        },
    ));
    let c = cache("cut");
    let e = only_failure(
        client(&[s.url()], &c, 1 << 20)
            .fetch(ID, Artifact::Debuginfo)
            .unwrap_err(),
    );
    assert!(
        matches!(e, FetchError::Truncated { expected, .. } if expected == file.len() as u64),
        "{e}"
    );
    nothing_kept(&c);
}

#[test]
fn too_big_is_refused() {
    let s = Server::start(route("debuginfo", Reply::Bytes(elf_with_id(&id_bytes(ID)))));
    let c = cache("big");
    let e = only_failure(
        client(&[s.url()], &c, 1000)
            .fetch(ID, Artifact::Debuginfo)
            .unwrap_err(),
    );
    assert!(matches!(e, FetchError::TooBig { max: 1000, .. }), "{e}");
    nothing_kept(&c);
}

#[test]
fn a_server_error_and_a_bad_id() {
    let s = Server::start(route("debuginfo", Reply::Status(503)));
    let c = cache("503");
    let cl = client(&[s.url()], &c, 1 << 20);
    assert!(matches!(
        only_failure(cl.fetch(ID, Artifact::Debuginfo).unwrap_err()),
        FetchError::Status(503)
    ));
    assert!(matches!(
        cl.fetch("../etc", Artifact::Debuginfo),
        Err(DebuginfodError::BadBuildId(_))
    ));
    assert!(s.hits().len() == 1, "a bad id asks no server");
}

#[test]
fn a_server_that_is_not_there() {
    // A port nothing listens on: bound, then closed.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let c = cache("noserver");
    let e = only_failure(
        client(&[&format!("http://127.0.0.1:{port}")], &c, 1 << 20)
            .fetch(ID, Artifact::Debuginfo)
            .unwrap_err(),
    );
    assert!(matches!(e, FetchError::Http(_)), "{e}");
}
