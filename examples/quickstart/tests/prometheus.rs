//! A real Prometheus server scrapes the running quickstart and answers a query for a genflow
//! series. Needs `prometheus` (Debian package `prometheus`, or `PROMETHEUS_BIN`); skipped
//! without it unless `CI` is set (`.ci/run` installs it).

mod support;

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::{Value, json};
use support::{Service, free_port};

struct Prometheus(Child);

impl Drop for Prometheus {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn start_prometheus(target: &str) -> Option<(Prometheus, u16)> {
    let bin = std::env::var("PROMETHEUS_BIN").unwrap_or_else(|_| "prometheus".to_owned());
    let dir = std::env::temp_dir().join(format!("genflow-prometheus-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let config = dir.join("prometheus.yml");
    std::fs::write(
        &config,
        format!(
            "global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: quickstart\n    static_configs:\n      - targets: ['{target}']\n"
        ),
    )
    .expect("write config");
    let port = free_port();
    let child = Command::new(&bin)
        .arg(format!("--config.file={}", config.display()))
        .arg(format!(
            "--storage.tsdb.path={}",
            dir.join("data").display()
        ))
        .arg(format!("--web.listen-address=127.0.0.1:{port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn();
    match child {
        Ok(child) => Some((Prometheus(child), port)),
        Err(e) if std::env::var_os("CI").is_none() => {
            eprintln!(
                "skipped: Prometheus is not installed ({bin}: {e}); apt-get install prometheus"
            );
            None
        }
        Err(e) => panic!("Prometheus is required in CI ({bin}: {e})"),
    }
}

#[tokio::test]
async fn prometheus_scrapes_genflow_metrics() {
    let service = Service::start();
    let http = reqwest::Client::new();
    let answered = http
        .post(format!("{}/ragQuery", service.base))
        .json(&json!({"data": {"question": "What is a flow?"}}))
        .send()
        .await
        .expect("POST /ragQuery");
    assert_eq!(answered.status(), 200);

    let target = service.base.trim_start_matches("http://").to_owned();
    let Some((_prometheus, port)) = start_prometheus(&target) else {
        return;
    };
    let query = format!(
        "http://127.0.0.1:{port}/api/v1/query?query=genkit_action_requests_total%7Bname%3D%22ragQuery%22%7D"
    );
    // Prometheus starts, then scrapes every second: poll its API for up to 60 s.
    let mut found = None;
    for _ in 0..120 {
        if let Ok(response) = http.get(&query).send().await
            && let Ok(body) = response.json::<Value>().await
            && let Some(series) = body["data"]["result"].as_array().and_then(|r| r.first())
        {
            found = Some(series.clone());
            break;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let series = found.expect("Prometheus has the genflow series");
    assert_eq!(series["metric"]["kind"], "flow");
    assert_eq!(series["metric"]["status"], "OK");
    assert_eq!(series["metric"]["job"], "quickstart");
    assert_eq!(series["value"][1], "1");
    assert!(service.stop().success());
}
