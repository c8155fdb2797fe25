//! Running the quickstart binary as a real process.
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

/// The running quickstart and the base URL it printed.
pub struct Service {
    child: Child,
    /// `http://127.0.0.1:<port>`.
    pub base: String,
}

impl Service {
    /// Starts the quickstart offline on a free port and waits for its banner.
    pub fn start() -> Service {
        let mut child = Command::new(env!("CARGO_BIN_EXE_quickstart"))
            .env("PORT", "0")
            .env("RUST_LOG", "info")
            .env_remove("GENFLOW_MODEL")
            .env_remove("OPENAI_API_KEY")
            .env_remove("GENFLOW_CONFIG")
            .current_dir(std::env::temp_dir())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("the quickstart starts");
        let stdout = child.stdout.take().expect("stdout is piped");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Some(at) = line.find("genflow serving on ") {
                    let _ = tx.send(line[at + "genflow serving on ".len()..].trim().to_owned());
                }
            }
        });
        let base = rx
            .recv_timeout(Duration::from_secs(60))
            .expect("the quickstart prints where it listens");
        Service { child, base }
    }

    /// Sends SIGTERM and waits (at most 10 s) for the exit status.
    pub fn stop(mut self) -> std::process::ExitStatus {
        let pid = self.child.id().to_string();
        let sent = Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .expect("kill runs");
        assert!(sent.success());
        for _ in 0..200 {
            if let Some(status) = self.child.try_wait().expect("wait") {
                return status;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        panic!("the quickstart did not stop within 10 s of SIGTERM");
    }
}

/// A free loopback port.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}
