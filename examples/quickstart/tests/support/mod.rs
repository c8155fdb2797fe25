//! Running the quickstart binary as a real process.
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex, PoisonError, mpsc};
use std::time::Duration;

/// The running quickstart, the base URL it printed, and everything it wrote.
pub struct Service {
    child: Child,
    /// `http://127.0.0.1:<port>`.
    pub base: String,
    output: Arc<Mutex<Vec<String>>>,
}

impl Service {
    /// Starts the quickstart offline on a free port and waits for its banner.
    pub fn start() -> Service {
        Service::start_with(&[])
    }

    /// Starts the quickstart with extra environment variables (`RUST_LOG` defaults to `info`).
    /// No local weights and no downloads unless `vars` say so: `local/test` answers.
    pub fn start_with(vars: &[(&str, &str)]) -> Service {
        let mut command = Command::new(env!("CARGO_BIN_EXE_quickstart"));
        command
            .env("PORT", "0")
            .env("RUST_LOG", "info")
            .env_remove("GENFLOW_MODEL")
            .env_remove("OPENAI_API_KEY")
            .env_remove("OPENAI_BASE_URL")
            .env_remove("GENFLOW_CONFIG")
            .env_remove("GENFLOW_MODELS_DIR")
            .env("GENFLOW_OFFLINE", "1")
            .env(
                "HF_HUB_CACHE",
                std::env::temp_dir().join("quickstart-tests-no-hf-cache"),
            )
            .envs(vars.iter().copied())
            .current_dir(std::env::temp_dir())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = command.spawn().expect("the quickstart starts");
        let output = Arc::new(Mutex::new(Vec::new()));
        let (tx, rx) = mpsc::channel();
        let stdout = child.stdout.take().expect("stdout is piped");
        let stderr = child.stderr.take().expect("stderr is piped");
        let readers: [Box<dyn std::io::Read + Send>; 2] = [Box::new(stdout), Box::new(stderr)];
        for reader in readers {
            let (tx, output) = (tx.clone(), Arc::clone(&output));
            std::thread::spawn(move || {
                for line in BufReader::new(reader).lines().map_while(Result::ok) {
                    if let Some(at) = line.find("genflow serving on ") {
                        let _ = tx.send(line[at + "genflow serving on ".len()..].trim().to_owned());
                    }
                    output
                        .lock()
                        .unwrap_or_else(PoisonError::into_inner)
                        .push(line);
                }
            });
        }
        let base = rx
            .recv_timeout(Duration::from_secs(60))
            .expect("the quickstart prints where it listens");
        Service {
            child,
            base,
            output,
        }
    }

    /// `POST /ragQuery` with `question`: the reply's JSON body, whatever its status.
    pub async fn rag_query(&self, question: &str) -> serde_json::Value {
        reqwest::Client::new()
            .post(format!("{}/ragQuery", self.base))
            .json(&serde_json::json!({"data": {"question": question}}))
            .send()
            .await
            .expect("POST /ragQuery")
            .json()
            .await
            .expect("json")
    }

    /// Everything the process wrote to stdout and stderr so far.
    pub fn output(&self) -> String {
        self.output
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .join("\n")
    }

    /// The first line the process wrote containing `needle`, waiting up to `patience` for it.
    pub fn line_with(&self, needle: &str, patience: Duration) -> String {
        let deadline = std::time::Instant::now() + patience;
        loop {
            let found = self
                .output
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .iter()
                .find(|line| line.contains(needle))
                .cloned();
            if let Some(line) = found {
                return line;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "no line with {needle:?} within {patience:?}:\n{}",
                self.output()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
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

// The runtime's local-model tests find the weights the same way.
#[path = "../../../../genflow-runtime/tests/common/models.rs"]
pub mod models;
