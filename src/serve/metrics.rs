//! `GET /metrics`: the server's figures in Prometheus' text format (version 0.0.4), for a
//! sys_admin account (Prometheus' `basic_auth`): requests by route, method and status,
//! their latency as histograms by route, the rows imports and updates wrote and rejected,
//! the imports in flight, the failed sign-ins, and the accounts locked now.
//!
//! Kept in the process (each server of several counts its own), without a dependency: a
//! few counters behind a mutex, rendered on demand.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::Mutex;

/// The latency buckets, in seconds.
const BUCKETS: [f64; 12] = [
    0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// A latency histogram: counts per bucket (not cumulative), the sum and the count.
#[derive(Default)]
struct Histogram {
    buckets: [u64; BUCKETS.len()],
    sum: f64,
    count: u64,
}

/// The server's figures.
#[derive(Default)]
pub struct Metrics {
    /// (route, method, status) → requests.
    requests: Mutex<BTreeMap<(String, String, u16), u64>>,
    /// route → latency.
    latency: Mutex<BTreeMap<String, Histogram>>,
    rows_created: AtomicU64,
    rows_updated: AtomicU64,
    rows_rejected: AtomicU64,
    imports_in_flight: AtomicI64,
    sign_in_failures: AtomicU64,
}

/// An import in flight, counted until dropped.
pub struct InFlight<'m>(&'m Metrics);

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.imports_in_flight.fetch_sub(1, Ordering::Relaxed);
    }
}

impl Metrics {
    /// Counts a request answered.
    pub fn request(&self, route: &str, method: &str, status: u16, seconds: f64) {
        if let Ok(mut m) = self.requests.lock() {
            *m.entry((route.to_string(), method.to_string(), status))
                .or_default() += 1;
        }
        if let Ok(mut m) = self.latency.lock() {
            let h = m.entry(route.to_string()).or_default();
            if let Some(i) = BUCKETS.iter().position(|b| seconds <= *b) {
                h.buckets[i] += 1;
            }
            h.sum += seconds;
            h.count += 1;
        }
    }

    /// Counts an import or update from now until the value is dropped.
    pub fn import_started(&self) -> InFlight<'_> {
        self.imports_in_flight.fetch_add(1, Ordering::Relaxed);
        InFlight(self)
    }

    /// Counts the rows an import or update wrote (when it committed) and rejected.
    pub fn rows(&self, created: u64, updated: u64, rejected: u64) {
        self.rows_created.fetch_add(created, Ordering::Relaxed);
        self.rows_updated.fetch_add(updated, Ordering::Relaxed);
        self.rows_rejected.fetch_add(rejected, Ordering::Relaxed);
    }

    /// Counts a wrong password.
    pub fn sign_in_failed(&self) {
        self.sign_in_failures.fetch_add(1, Ordering::Relaxed);
    }

    /// The text Prometheus scrapes; `locked`: the accounts locked now.
    pub fn render(&self, locked: u64) -> String {
        let mut out = String::new();
        let family = |out: &mut String, name: &str, kind: &str, help: &str| {
            let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
        };
        family(
            &mut out,
            "ucsv_http_requests_total",
            "counter",
            "HTTP requests answered, by route, method and status.",
        );
        if let Ok(m) = self.requests.lock() {
            for ((route, method, status), n) in m.iter() {
                let _ = writeln!(
                    out,
                    "ucsv_http_requests_total{{route=\"{}\",method=\"{}\",status=\"{status}\"}} {n}",
                    label(route),
                    label(method)
                );
            }
        }
        family(
            &mut out,
            "ucsv_http_request_duration_seconds",
            "histogram",
            "Time from a request to its answer, by route.",
        );
        if let Ok(m) = self.latency.lock() {
            for (route, h) in m.iter() {
                let route = label(route);
                let mut cumulative = 0;
                for (bound, n) in BUCKETS.iter().zip(h.buckets) {
                    cumulative += n;
                    let _ = writeln!(
                        out,
                        "ucsv_http_request_duration_seconds_bucket{{route=\"{route}\",le=\"{bound}\"}} {cumulative}"
                    );
                }
                let _ = writeln!(
                    out,
                    "ucsv_http_request_duration_seconds_bucket{{route=\"{route}\",le=\"+Inf\"}} {}\n\
                     ucsv_http_request_duration_seconds_sum{{route=\"{route}\"}} {}\n\
                     ucsv_http_request_duration_seconds_count{{route=\"{route}\"}} {}",
                    h.count, h.sum, h.count
                );
            }
        }
        let load = |a: &AtomicU64| a.load(Ordering::Relaxed);
        for (name, kind, help, value) in [
            (
                "ucsv_rows_created_total",
                "counter",
                "Users created by imports over HTTP that committed.",
                load(&self.rows_created) as i64,
            ),
            (
                "ucsv_rows_updated_total",
                "counter",
                "Users changed by updates over HTTP that committed.",
                load(&self.rows_updated) as i64,
            ),
            (
                "ucsv_rows_rejected_total",
                "counter",
                "Rows of imports and updates over HTTP rejected.",
                load(&self.rows_rejected) as i64,
            ),
            (
                "ucsv_imports_in_flight",
                "gauge",
                "Imports and updates over HTTP running now.",
                self.imports_in_flight.load(Ordering::Relaxed),
            ),
            (
                "ucsv_sign_in_failures_total",
                "counter",
                "Sign-ins refused for a wrong password.",
                load(&self.sign_in_failures) as i64,
            ),
            (
                "ucsv_accounts_locked",
                "gauge",
                "Accounts locked now (after too many wrong passwords).",
                locked as i64,
            ),
        ] {
            family(&mut out, name, kind, help);
            let _ = writeln!(out, "{name} {value}");
        }
        out
    }
}

/// A label value as the format wants it: backslash, double quote and line feed escaped.
fn label(text: &str) -> String {
    text.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histograms_are_cumulative_and_labels_escaped() {
        let m = Metrics::default();
        m.request("/a", "GET", 200, 0.003);
        m.request("/a", "GET", 200, 0.3);
        m.request("/a\"b", "GET", 404, 20.0);
        let text = m.render(2);
        assert!(
            text.contains("ucsv_http_requests_total{route=\"/a\",method=\"GET\",status=\"200\"} 2")
        );
        assert!(text.contains("route=\"/a\\\"b\""), "{text}");
        assert!(
            text.contains("ucsv_http_request_duration_seconds_bucket{route=\"/a\",le=\"0.001\"} 0")
        );
        assert!(
            text.contains("ucsv_http_request_duration_seconds_bucket{route=\"/a\",le=\"0.005\"} 1")
        );
        assert!(
            text.contains("ucsv_http_request_duration_seconds_bucket{route=\"/a\",le=\"0.5\"} 2")
        );
        assert!(text
            .contains("ucsv_http_request_duration_seconds_bucket{route=\"/a\\\"b\",le=\"10\"} 0"));
        assert!(text.contains(
            "ucsv_http_request_duration_seconds_bucket{route=\"/a\\\"b\",le=\"+Inf\"} 1"
        ));
        assert!(text.contains("ucsv_accounts_locked 2"));
        let _flight = m.import_started();
        assert!(m.render(0).contains("ucsv_imports_in_flight 1"));
    }
}
