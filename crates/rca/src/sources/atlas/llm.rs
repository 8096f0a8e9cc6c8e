//! The `llm` backend of Atlas's synthesis step: one chat-completions request per component
//! to any OpenAI-compatible endpoint (`POST <url>/chat/completions`, or `url` itself when
//! it already ends so), asking for a JSON list of causal edges.
//!
//! - **Key**: read from the environment variable whose *name* the config gives
//!   (`api_key_env`) and sent as `Authorization: Bearer <key>`; it is written nowhere (not
//!   in the cache, not in errors: any echo of it in a server's answer is masked). No
//!   `api_key_env`: no header (a local server).
//! - **Cache**: `<cache_dir>/<sha256(model, prompt)>.json` holds the model, the messages and
//!   the answer's text; a hit needs no server, so a rerun is reproducible and offline.
//!   Only answers that parse as a JSON list are cached. `offline: true` makes a miss an
//!   error instead of a request. Files are written to a temporary name and renamed.
//! - **Checking the answer**: text that is not a JSON list (one surrounding Markdown code
//!   fence is allowed) is an error naming the component and the URL; an item without string
//!   `cause` and `effect`, a metric name not in the prompt's lists, or a self loop is left
//!   out with a warning that says why.
//! - **Timeouts**: the whole request (connect, send, answer) is bounded by `timeout_s`.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::sources::SourceError;
use crate::sources::atlas::LocalPiece;
use crate::sources::atlas::docs::ComponentDoc;
use crate::sources::atlas::sha256::sha256_hex;

/// The `llm` backend's config fields.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LlmConfig {
    /// Base URL of an OpenAI-compatible API (e.g. `http://127.0.0.1:8000/v1`).
    pub url: String,
    /// Model name sent with each request.
    pub model: String,
    /// Name of the environment variable holding the API key (none: no key is sent).
    #[serde(default)]
    pub api_key_env: Option<String>,
    /// Answer cache folder (default `results/rca/llm-cache`).
    #[serde(default = "default_cache_dir")]
    pub cache_dir: PathBuf,
    /// Bound on one request, seconds (default 120).
    #[serde(default = "default_timeout")]
    pub timeout_s: f64,
    /// Use the cache only: a miss is an error (default false).
    #[serde(default)]
    pub offline: bool,
}

fn default_cache_dir() -> PathBuf {
    PathBuf::from("results/rca/llm-cache")
}

fn default_timeout() -> f64 {
    120.0
}

/// The system message of every request.
pub const SYSTEM_PROMPT: &str = "You are a site reliability engineer building a causal \
graph between the monitoring metrics of a microservice system. An edge cause -> effect means \
that a change in the cause directly changes the effect. Answer with JSON only.";

/// The chat messages for one component: its documentation, its metrics and those of the
/// components its documentation names (`partners`).
pub fn messages(doc: &ComponentDoc, own: &[String], partners: &[(String, Vec<String>)]) -> Value {
    let me = &doc.component;
    let mut user = format!(
        "Component: {me}\n\nIts documentation:\n\n{}\n\nMetrics of {me}:\n",
        doc.text.trim_end()
    );
    for m in own {
        user.push_str(&format!("- {m}\n"));
    }
    if !partners.is_empty() {
        user.push_str(&format!(
            "\nMetrics of the components {me} interacts with, as its documentation names them:\n"
        ));
        for (c, ms) in partners {
            user.push_str(&format!("- {c}: {}\n", ms.join(", ")));
        }
    }
    user.push_str(&format!(
        "\nPropose the direct causal edges among the metrics of {me}, and between the metrics \
         of {me} and those of the components above. Answer with only a JSON list whose items \
         are {{\"cause\": \"<metric>\", \"effect\": \"<metric>\"}}, using the metric names \
         exactly as listed, or [] if there are none."
    ));
    json!([
        {"role": "system", "content": SYSTEM_PROMPT},
        {"role": "user", "content": user},
    ])
}

/// An answer's (cause, effect) edges and the warnings about the items left out.
pub type ParsedAnswer = (Vec<(String, String)>, Vec<String>);

/// The edges of an answer, and warnings for the items left out; an error (the reason)
/// when the answer is not a JSON list.
pub fn parse_answer(answer: &str, allowed: &[String]) -> Result<ParsedAnswer, String> {
    let mut text = answer.trim();
    if let Some(rest) = text.strip_prefix("```") {
        let rest = rest.trim_start_matches(|c: char| c.is_ascii_alphabetic());
        text = rest.strip_suffix("```").unwrap_or(rest).trim();
    }
    let value: Value = serde_json::from_str(text).map_err(|e| {
        let shown: String = answer.chars().take(200).collect();
        format!("the answer is not valid JSON ({e}); it begins `{shown}`")
    })?;
    let Value::Array(items) = value else {
        return Err(format!("the answer is JSON but not a list of edges: `{value}`"));
    };
    let mut edges = Vec::new();
    let mut warnings = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let field = |k: &str| item.get(k).and_then(Value::as_str).map(str::to_string);
        let (Some(c), Some(e)) = (field("cause"), field("effect")) else {
            warnings
                .push(format!("item {i} `{item}` has no string `cause` and `effect`; left out"));
            continue;
        };
        let unknown: Vec<&String> = [&c, &e].into_iter().filter(|m| !allowed.contains(m)).collect();
        if !unknown.is_empty() {
            warnings.push(format!(
                "item {i} ({c} -> {e}) names metrics not in the prompt: {}; left out",
                unknown.iter().map(|m| format!("`{m}`")).collect::<Vec<_>>().join(", ")
            ));
            continue;
        }
        if c == e {
            warnings.push(format!("item {i} is a self loop on `{c}`; left out"));
            continue;
        }
        if !edges.contains(&(c.clone(), e.clone())) {
            edges.push((c, e));
        }
    }
    Ok((edges, warnings))
}

/// The backend: the config and the endpoint's full URL.
#[derive(Debug, Clone)]
pub struct LlmBackend {
    config: LlmConfig,
    endpoint: String,
    env: EnvLookup,
}

/// Where the API key is looked up by variable name (the process environment, or a stand-in
/// in tests).
pub type EnvLookup = fn(&str) -> Option<String>;

fn process_env(name: &str) -> Option<String> {
    std::env::var(name).ok()
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct CacheEntry {
    key: String,
    model: String,
    messages: Value,
    answer: String,
}

impl LlmBackend {
    /// Checks the config.
    pub fn new(config: LlmConfig) -> Result<Self, SourceError> {
        let bad = |field: &str, message: String| SourceError::Config {
            field: format!("backend.{field}"),
            message,
        };
        if !(config.url.starts_with("http://") || config.url.starts_with("https://")) {
            return Err(bad(
                "url",
                format!("`{}` must start with http:// or https://", config.url),
            ));
        }
        if config.model.trim().is_empty() {
            return Err(bad("model", "must name the model".into()));
        }
        if !(config.timeout_s.is_finite() && config.timeout_s > 0.0) {
            return Err(bad(
                "timeout_s",
                format!("{} must be a positive number", config.timeout_s),
            ));
        }
        if config.api_key_env.as_deref().is_some_and(|v| v.trim().is_empty()) {
            return Err(bad("api_key_env", "must name an environment variable".into()));
        }
        let base = config.url.trim_end_matches('/');
        let endpoint = if base.ends_with("/chat/completions") {
            base.to_string()
        } else {
            format!("{base}/chat/completions")
        };
        Ok(LlmBackend { config, endpoint, env: process_env })
    }

    /// The same backend, reading the key through `env` instead of the process environment.
    pub fn with_env(mut self, env: EnvLookup) -> Self {
        self.env = env;
        self
    }

    /// The URL requests go to.
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    fn err(&self, component: &str, message: String) -> SourceError {
        SourceError::Llm { url: self.endpoint.clone(), component: component.into(), message }
    }

    fn cache_path(&self, key: &str) -> PathBuf {
        self.config.cache_dir.join(format!("{key}.json"))
    }

    /// Component `doc`'s local piece (`own`: its metrics; `partners`: the components its
    /// documentation names, with their metrics).
    pub fn piece(
        &self,
        doc: &ComponentDoc,
        own: &[String],
        partners: &[(String, Vec<String>)],
    ) -> Result<LocalPiece, SourceError> {
        let me = doc.component.as_str();
        let msgs = messages(doc, own, partners);
        let key = sha256_hex(format!("{}\u{0}{msgs}", self.config.model).as_bytes());
        let path = self.cache_path(&key);
        let (answer, cached) = match read_cache(&path, &self.config.model, &msgs)? {
            Some(a) => (a, true),
            None if self.config.offline => {
                return Err(self.err(
                    me,
                    format!(
                        "`offline` is set and the cache has no answer ({} is missing)",
                        path.display()
                    ),
                ));
            }
            None => (self.ask(me, &msgs)?, false),
        };
        let mut allowed: Vec<String> = own.to_vec();
        allowed.extend(partners.iter().flat_map(|(_, m)| m.iter().cloned()));
        let (edges, warnings) = parse_answer(&answer, &allowed).map_err(|reason| {
            let origin =
                if cached { format!(" (cached in {})", path.display()) } else { String::new() };
            self.err(me, format!("malformed answer{origin}: {reason}"))
        })?;
        if !cached {
            let entry = CacheEntry {
                key: key.clone(),
                model: self.config.model.clone(),
                messages: msgs,
                answer,
            };
            write_cache(&path, &entry)?;
        }
        let warnings =
            warnings.into_iter().map(|w| format!("llm answer for `{me}`: {w}")).collect();
        Ok(LocalPiece { component: me.to_string(), edges, warnings })
    }

    /// One request; the answer's text.
    fn ask(&self, me: &str, msgs: &Value) -> Result<String, SourceError> {
        let key = match &self.config.api_key_env {
            None => None,
            Some(var) => {
                match (self.env)(var) {
                    Some(k) if !k.is_empty() => Some(k),
                    _ => {
                        return Err(self.err(
                        me,
                        format!("the environment variable `{var}` (named by `api_key_env`) is not set"),
                    ));
                    }
                }
            }
        };
        let mask = |s: String| match &key {
            Some(k) => s.replace(k.as_str(), "***"),
            None => s,
        };
        let loopback = ["http://127.0.0.1", "http://localhost", "http://[::1]"]
            .iter()
            .any(|p| self.endpoint.starts_with(p));
        let mut builder = ureq::Agent::config_builder()
            .timeout_global(Some(Duration::from_secs_f64(self.config.timeout_s)))
            .http_status_as_error(false);
        if loopback {
            builder = builder.proxy(None);
        }
        let agent = ureq::Agent::new_with_config(builder.build());
        let body = json!({"model": self.config.model, "messages": msgs, "temperature": 0});
        let mut req = agent.post(&self.endpoint).header("Content-Type", "application/json");
        if let Some(k) = &key {
            req = req.header("Authorization", format!("Bearer {k}"));
        }
        let mut resp = req
            .send(body.to_string())
            .map_err(|e| self.err(me, mask(format!("request failed: {e}"))))?;
        let status = resp.status().as_u16();
        let text = resp
            .body_mut()
            .read_to_string()
            .map_err(|e| self.err(me, mask(format!("reading the answer failed: {e}"))))?;
        if status != 200 {
            let shown: String = text.chars().take(300).collect();
            return Err(self.err(me, mask(format!("HTTP status {status}: {shown}"))));
        }
        let value: Value = serde_json::from_str(&text).map_err(|e| {
            self.err(me, mask(format!("the response is not chat-completions JSON: {e}")))
        })?;
        value
            .pointer("/choices/0/message/content")
            .and_then(Value::as_str)
            .map(|s| mask(s.to_string()))
            .ok_or_else(|| {
                self.err(me, "the response has no `choices[0].message.content` string".into())
            })
    }
}

fn cache_err(path: &Path, message: String) -> SourceError {
    SourceError::Cache { path: path.display().to_string(), message }
}

fn read_cache(path: &Path, model: &str, msgs: &Value) -> Result<Option<String>, SourceError> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(cache_err(path, e.to_string())),
    };
    let entry: CacheEntry = serde_json::from_str(&text)
        .map_err(|e| cache_err(path, format!("not a cache entry ({e}); delete it to ask again")))?;
    if entry.model != model || &entry.messages != msgs {
        return Err(cache_err(path, "holds another prompt under the same key; delete it".into()));
    }
    Ok(Some(entry.answer))
}

fn write_cache(path: &Path, entry: &CacheEntry) -> Result<(), SourceError> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| cache_err(dir, e.to_string()))?;
    }
    let text = serde_json::to_string_pretty(entry).map_err(|e| cache_err(path, e.to_string()))?;
    let tmp = path.with_extension("json.tmp");
    std::fs::write(&tmp, text).map_err(|e| cache_err(&tmp, e.to_string()))?;
    std::fs::rename(&tmp, path).map_err(|e| cache_err(path, e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_are_checked() {
        let allowed: Vec<String> =
            ["a.cpu", "a.latency_p50", "b.latency_p50"].map(String::from).to_vec();
        let (e, w) = parse_answer(
            "```json\n[{\"cause\": \"a.cpu\", \"effect\": \"a.latency_p50\"}, {\"cause\": \"a.cpu\", \"effect\": \"a.cpu\"}, {\"cause\": \"z.cpu\", \"effect\": \"a.cpu\"}, {\"from\": 1}]\n```",
            &allowed,
        )
        .unwrap();
        assert_eq!(e, vec![("a.cpu".to_string(), "a.latency_p50".to_string())]);
        assert_eq!(w.len(), 3);
        assert!(w[0].contains("self loop") && w[1].contains("`z.cpu`") && w[2].contains("cause"));
        assert!(parse_answer("edges: a -> b", &allowed).unwrap_err().contains("not valid JSON"));
        assert!(parse_answer("{\"edges\": []}", &allowed).unwrap_err().contains("not a list"));
    }

    #[test]
    fn config_is_checked() {
        let c = LlmConfig {
            url: "http://127.0.0.1:9/v1/".into(),
            model: "m".into(),
            api_key_env: None,
            cache_dir: default_cache_dir(),
            timeout_s: 5.0,
            offline: false,
        };
        assert_eq!(
            LlmBackend::new(c.clone()).unwrap().endpoint(),
            "http://127.0.0.1:9/v1/chat/completions"
        );
        let bad = LlmConfig { url: "ftp://x".into(), ..c };
        assert!(LlmBackend::new(bad).unwrap_err().to_string().contains("backend.url"));
    }
}
