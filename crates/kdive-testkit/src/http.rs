//! A small HTTP server on 127.0.0.1 for tests of the debuginfod client:
//! one thread, one request per connection, fixed replies by path (404 for
//! any other), and a list of the paths asked for.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

/// What the server answers for a path.
#[derive(Debug, Clone)]
pub enum Reply {
    /// 200 with these bytes.
    Bytes(Vec<u8>),
    /// 200 with the contents of this file, streamed.
    File(PathBuf),
    /// 200 announcing `claimed` bytes, then only `body`, then the
    /// connection closes: a download cut short.
    Truncated { body: Vec<u8>, claimed: u64 },
    /// This status, no body.
    Status(u16),
}

/// A running server; it stops with the test process.
pub struct Server {
    url: String,
    hits: Arc<Mutex<Vec<String>>>,
}

impl Server {
    /// Serve `routes` (path, as `/buildid/ID/debuginfo`, to reply).
    pub fn start(routes: HashMap<String, Reply>) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1");
        let url = format!("http://{}", listener.local_addr().unwrap());
        let hits = Arc::new(Mutex::new(Vec::new()));
        let seen = Arc::clone(&hits);
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let _ = serve(stream, &routes, &seen);
            }
        });
        Server { url, hits }
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The paths asked for so far.
    pub fn hits(&self) -> Vec<String> {
        self.hits.lock().unwrap().clone()
    }
}

fn serve(
    stream: TcpStream,
    routes: &HashMap<String, Reply>,
    hits: &Mutex<Vec<String>>,
) -> std::io::Result<()> {
    stream.set_read_timeout(Some(std::time::Duration::from_secs(5)))?;
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut request = String::new();
    reader.read_line(&mut request)?;
    loop {
        let mut header = String::new();
        if reader.read_line(&mut header)? == 0 || header == "\r\n" || header == "\n" {
            break;
        }
    }
    let path = request.split_whitespace().nth(1).unwrap_or("").to_string();
    hits.lock().unwrap().push(path.clone());
    let mut out = stream;
    let head = |status: u16, len: u64| {
        format!("HTTP/1.1 {status} X\r\nContent-Length: {len}\r\nConnection: close\r\n\r\n")
    };
    match routes.get(&path).cloned().unwrap_or(Reply::Status(404)) {
        Reply::Bytes(b) => {
            out.write_all(head(200, b.len() as u64).as_bytes())?;
            out.write_all(&b)?;
        }
        Reply::File(p) => {
            let mut f = std::fs::File::open(&p)?;
            out.write_all(head(200, f.metadata()?.len()).as_bytes())?;
            std::io::copy(&mut f, &mut out)?;
        }
        Reply::Truncated { body, claimed } => {
            out.write_all(head(200, claimed).as_bytes())?;
            out.write_all(&body)?;
        }
        Reply::Status(s) => out.write_all(head(s, 0).as_bytes())?,
    }
    out.flush()?;
    // Let the client read everything before the socket goes away.
    let _ = out.shutdown(std::net::Shutdown::Write);
    let _ = reader.read(&mut [0u8; 64]);
    Ok(())
}
