//! Reading `/metrics` in tests: one scrape, and the value of one series in it.

use std::time::Duration;

use crate::TestApp;

/// One scrape of `/metrics`, as text.
#[derive(Debug, Clone)]
pub struct Scrape(pub String);

impl Scrape {
    /// The value of the series `name` whose labels include every one of `labels`; `None` when
    /// no such series is shown.
    pub fn value(&self, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
        self.0
            .lines()
            .filter(|line| !line.starts_with('#'))
            .find_map(|line| {
                let (series, value) = line.rsplit_once(' ')?;
                let (series_name, shown) = match series.split_once('{') {
                    Some((n, rest)) => (n, rest.trim_end_matches('}')),
                    None => (series, ""),
                };
                let shown: Vec<&str> = shown.split(',').collect();
                let all = labels
                    .iter()
                    .all(|(k, v)| shown.contains(&format!("{k}=\"{v}\"").as_str()));
                (series_name == name && all).then(|| value.parse().ok())?
            })
    }

    /// [`Self::value`], 0 when the series is not shown.
    pub fn count(&self, name: &str, labels: &[(&str, &str)]) -> f64 {
        self.value(name, labels).unwrap_or(0.0)
    }
}

impl TestApp {
    /// Scrapes `/metrics` from loopback (allowed by default).
    pub async fn scrape(&self) -> Scrape {
        let reply = self.get("/metrics", None).await;
        assert_eq!(reply.status, 200, "{}", reply.text);
        Scrape(reply.text)
    }

    /// Scrapes until the series reaches at least `at_least` (what the server counts after it
    /// answered, as a webhook's log row, may land a moment after the answer); returns the last
    /// scrape, or panics after five seconds.
    pub async fn scrape_until(&self, name: &str, labels: &[(&str, &str)], at_least: f64) -> Scrape {
        let mut last = self.scrape().await;
        for _ in 0..100 {
            if last.count(name, labels) >= at_least {
                return last;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
            last = self.scrape().await;
        }
        panic!(
            "{name}{labels:?} never reached {at_least}: {:?}\n{}",
            last.value(name, labels),
            last.0
        );
    }
}
