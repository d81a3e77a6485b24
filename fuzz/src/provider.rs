//! A payment provider's API as a fuzz target meets it: an HTTP/1.1 server on 127.0.0.1 that
//! answers requests, whatever their method and path, `200 OK` with the bodies the target set
//! for the current input, in order (the first request gets the first, …, and every request
//! past the last gets the last).
//!
//! Gateways that ask the provider about a delivery before trusting it (YooKassa re-fetches the
//! object, Stripe looks up the PaymentIntent behind a refund or a dispute, Robokassa's
//! OpStateExt) then read the fuzzer's bytes through their real HTTP client and parser, as they
//! would read a provider's answer. It is a test double of the provider, not of our code.
//!
//! The server reads each request (headers, then a `Content-Length` body) and keeps the
//! connection open, as the gateways' pooled clients expect. It runs on threads of its own and
//! never panics: an I/O error closes that one connection.

use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread;

/// The running server. Dropping it leaves the server running: a fuzz target starts one and
/// keeps it for the life of the process.
#[derive(Debug, Clone)]
pub struct Provider {
    url: String,
    answers: Arc<Mutex<Answers>>,
}

/// The answers for the current input, and how many were taken.
#[derive(Debug, Default)]
struct Answers {
    bodies: Vec<Vec<u8>>,
    taken: usize,
}

impl Answers {
    fn next(&mut self) -> &[u8] {
        let at = self.taken.min(self.bodies.len().saturating_sub(1));
        self.taken += 1;
        self.bodies.get(at).map_or(&[], Vec::as_slice)
    }
}

impl Provider {
    /// Starts a server on a free port of 127.0.0.1, answering with `content_type`.
    ///
    /// # Panics
    /// When no port can be bound: the target cannot run at all.
    pub fn start(content_type: &'static str) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0")
            .unwrap_or_else(|e| panic!("the fake provider cannot bind 127.0.0.1: {e}"));
        let url = match listener.local_addr() {
            Ok(addr) => format!("http://{addr}"),
            Err(e) => panic!("the fake provider has no address: {e}"),
        };
        let answers = Arc::new(Mutex::new(Answers::default()));
        let shared = Arc::clone(&answers);
        thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let answers = Arc::clone(&shared);
                thread::spawn(move || {
                    // A client that goes away, or sends what is not HTTP, only ends its
                    // connection.
                    let _ = serve(stream, content_type, &answers);
                });
            }
        });
        Self { url, answers }
    }

    /// `http://127.0.0.1:<port>`, without a trailing slash.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// What the next requests are answered with, in order; none is an empty body.
    pub fn answer_with<'a>(&self, bodies: impl IntoIterator<Item = &'a [u8]>) {
        let mut answers = self.answers.lock().unwrap_or_else(PoisonError::into_inner);
        answers.bodies.clear();
        answers
            .bodies
            .extend(bodies.into_iter().map(<[u8]>::to_vec));
        answers.taken = 0;
    }
}

/// Answers the requests of one connection until the client closes it.
fn serve(stream: TcpStream, content_type: &str, answers: &Mutex<Answers>) -> io::Result<()> {
    // One write per answer and no Nagle delay: a target waits for every answer.
    stream.set_nodelay(true)?;
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut writer = stream;
    let mut line = String::new();
    loop {
        let mut content_length = 0usize;
        let mut request_line = true;
        loop {
            line.clear();
            if reader.read_line(&mut line)? == 0 {
                return Ok(());
            }
            if line.trim_end().is_empty() {
                if request_line {
                    // Blank lines before a request line are allowed (RFC 9112 §2.2).
                    continue;
                }
                break;
            }
            request_line = false;
            if let Some((name, value)) = line.split_once(':')
                && name.trim().eq_ignore_ascii_case("content-length")
            {
                content_length = value
                    .trim()
                    .parse()
                    .map_err(|_| io::Error::other("a bad Content-Length"))?;
            }
        }
        io::copy(
            &mut (&mut reader).take(content_length as u64),
            &mut io::sink(),
        )?;
        let response = {
            let mut answers = answers.lock().unwrap_or_else(PoisonError::into_inner);
            let answer = answers.next();
            let mut response = format!(
                "HTTP/1.1 200 OK\r\ncontent-type: {content_type}\r\ncontent-length: {}\r\n\r\n",
                answer.len()
            )
            .into_bytes();
            response.extend_from_slice(answer);
            response
        };
        writer.write_all(&response)?;
    }
}
