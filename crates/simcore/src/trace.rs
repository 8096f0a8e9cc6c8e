//! Chrome trace-event JSON output, readable by Perfetto (ui.perfetto.dev) and
//! chrome://tracing.
//!
//! Format: the "JSON Object Format" of the Trace Event Format document (Google, "Trace Event
//! Format", docs.google.com/document/d/1CvAClvFfyA5R-PhYUmn5OOQtYMH4h6I0nSsKchNAySU). Each
//! span is a complete event (`"ph": "X"`) with `name`, `cat`, `ts` and `dur` in microseconds,
//! `pid` and `tid`; processes and threads get names through metadata events (`"ph": "M"`).
//! Timestamps are printed with nanosecond precision (three decimals of a microsecond).

use std::io::{self, Write};
use std::path::Path;

use serde_json::{Map, Value};

use crate::fs::write_atomic;
use crate::time::SimTime;

/// One trace event; see the module docs for the fields.
#[derive(Clone, Debug, PartialEq)]
pub struct TraceEvent {
    /// Event name shown on the span.
    pub name: String,
    /// Category (filterable in the viewers).
    pub cat: &'static str,
    /// Phase: `X` complete span, `i` instant, `C` counter, `M` metadata.
    pub ph: char,
    /// Start time.
    pub ts: SimTime,
    /// Duration (complete events only).
    pub dur: Option<SimTime>,
    /// Process lane (e.g. a node).
    pub pid: u32,
    /// Thread lane inside the process (e.g. a GPU stream).
    pub tid: u32,
    /// Extra key/value pairs shown when the span is selected.
    pub args: Map<String, Value>,
}

/// An in-memory list of trace events that writes itself as Chrome trace JSON.
#[derive(Clone, Debug, Default)]
pub struct ChromeTrace {
    events: Vec<TraceEvent>,
}

impl ChromeTrace {
    /// An empty trace.
    pub fn new() -> Self {
        ChromeTrace::default()
    }

    /// Number of events (including metadata).
    pub fn len(&self) -> usize {
        self.events.len()
    }

    /// Whether the trace has no events.
    pub fn is_empty(&self) -> bool {
        self.events.is_empty()
    }

    /// The events in insertion order.
    pub fn events(&self) -> &[TraceEvent] {
        &self.events
    }

    /// Adds a span from `start` lasting `dur` on lane `(pid, tid)`.
    pub fn span(
        &mut self,
        name: impl Into<String>,
        cat: &'static str,
        (pid, tid): (u32, u32),
        start: SimTime,
        dur: SimTime,
        args: Map<String, Value>,
    ) {
        self.events.push(TraceEvent {
            name: name.into(),
            cat,
            ph: 'X',
            ts: start,
            dur: Some(dur),
            pid,
            tid,
            args,
        });
    }

    /// Adds an instant marker (e.g. a failure) on one thread lane.
    pub fn instant(
        &mut self,
        name: impl Into<String>,
        cat: &'static str,
        pid: u32,
        tid: u32,
        at: SimTime,
    ) {
        self.events.push(TraceEvent {
            name: name.into(),
            cat,
            ph: 'i',
            ts: at,
            dur: None,
            pid,
            tid,
            args: Map::new(),
        });
    }

    /// Adds a counter sample: each `(series, value)` pair becomes one line of a counter track.
    pub fn counter(
        &mut self,
        name: impl Into<String>,
        pid: u32,
        at: SimTime,
        series: &[(&str, f64)],
    ) {
        let args = series.iter().map(|(k, v)| (k.to_string(), Value::from(*v))).collect();
        self.events.push(TraceEvent {
            name: name.into(),
            cat: "counter",
            ph: 'C',
            ts: at,
            dur: None,
            pid,
            tid: 0,
            args,
        });
    }

    /// Names a process lane.
    pub fn name_process(&mut self, pid: u32, name: impl Into<String>) {
        self.metadata("process_name", pid, 0, name.into());
    }

    /// Names a thread lane.
    pub fn name_thread(&mut self, pid: u32, tid: u32, name: impl Into<String>) {
        self.metadata("thread_name", pid, tid, name.into());
    }

    fn metadata(&mut self, kind: &str, pid: u32, tid: u32, name: String) {
        let mut args = Map::new();
        args.insert("name".into(), Value::from(name));
        self.events.push(TraceEvent {
            name: kind.into(),
            cat: "__metadata",
            ph: 'M',
            ts: SimTime::ZERO,
            dur: None,
            pid,
            tid,
            args,
        });
    }

    /// Writes the trace as one JSON object `{"traceEvents": [...], "displayTimeUnit": "ns"}`.
    pub fn write_json<W: Write>(&self, mut w: W) -> io::Result<()> {
        w.write_all(b"{\"displayTimeUnit\":\"ns\",\"traceEvents\":[\n")?;
        for (i, e) in self.events.iter().enumerate() {
            if i > 0 {
                w.write_all(b",\n")?;
            }
            write!(w, "{{\"name\":")?;
            serde_json::to_writer(&mut w, &e.name)?;
            write!(w, ",\"cat\":")?;
            serde_json::to_writer(&mut w, e.cat)?;
            write!(w, ",\"ph\":\"{}\",\"ts\":{}", e.ph, micros(e.ts))?;
            if let Some(d) = e.dur {
                write!(w, ",\"dur\":{}", micros(d))?;
            }
            if e.ph == 'i' {
                w.write_all(b",\"s\":\"t\"")?;
            }
            write!(w, ",\"pid\":{},\"tid\":{}", e.pid, e.tid)?;
            if !e.args.is_empty() {
                w.write_all(b",\"args\":")?;
                serde_json::to_writer(&mut w, &e.args)?;
            }
            w.write_all(b"}")?;
        }
        w.write_all(b"\n]}\n")
    }

    /// Writes the trace to `path` atomically (temporary file, then rename).
    pub fn save(&self, path: &Path) -> io::Result<()> {
        write_atomic(path, |w| self.write_json(w))
    }
}

/// Microseconds with exactly the nanosecond digits: 1234567 ns -> "1234.567".
fn micros(t: SimTime) -> String {
    let ns = t.as_nanos();
    let (us, frac) = (ns / 1000, ns % 1000);
    if frac == 0 { us.to_string() } else { format!("{us}.{frac:03}") }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_valid_chrome_trace_json() {
        let mut t = ChromeTrace::new();
        t.name_process(0, "node0");
        t.name_thread(0, 3, "gpu3/compute");
        let mut args = Map::new();
        args.insert("flops".into(), Value::from(1e12));
        t.span(
            "matmul \"fwd\"",
            "compute",
            (0, 3),
            SimTime::from_nanos(1_234_567),
            SimTime::from_micros(5),
            args,
        );
        t.instant("failure", "fault", 0, 3, SimTime::from_micros(7));
        t.counter("hbm", 0, SimTime::from_micros(1), &[("used", 1.5)]);
        let mut buf = Vec::new();
        t.write_json(&mut buf).unwrap();
        let v: Value = serde_json::from_slice(&buf).unwrap();
        let events = v["traceEvents"].as_array().unwrap();
        assert_eq!(events.len(), 5);
        let span = &events[2];
        assert_eq!(span["ph"], "X");
        assert_eq!(span["name"], "matmul \"fwd\"");
        assert_eq!(span["ts"].as_f64(), Some(1234.567));
        assert_eq!(span["dur"].as_f64(), Some(5.0));
        assert_eq!(span["pid"], 0);
        assert_eq!(span["tid"], 3);
        assert_eq!(span["args"]["flops"].as_f64(), Some(1e12));
        assert_eq!(events[0]["ph"], "M");
        assert_eq!(events[0]["args"]["name"], "node0");
        assert_eq!(events[3]["s"], "t");
    }

    #[test]
    fn micros_keeps_nanoseconds() {
        assert_eq!(micros(SimTime::from_nanos(0)), "0");
        assert_eq!(micros(SimTime::from_nanos(1)), "0.001");
        assert_eq!(micros(SimTime::from_nanos(1_000_010)), "1000.010");
    }
}
