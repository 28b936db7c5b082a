//! `:` command mode: jump anywhere by name, with completion (Tab) and history (Up/Down).
//! `:agents`, `:kv`, `:serving`, ... a tab; `:ctx NAME` focuses a cluster (`:ctx` alone: all);
//! `:pods NS [SELECTOR]` lists pods on the focused (or first) cluster; `:q` quits.

use super::tabs::{Tab, ALL};

/// A parsed command.
#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    Quit,
    Help,
    Tab(Tab),
    Context(Option<String>),
    Pods { namespace: String, selector: String },
}

/// The words a tab answers to.
pub fn tab_words(t: Tab) -> &'static [&'static str] {
    match t {
        Tab::Overview => &["overview", "clusters"],
        Tab::Serving => &["serving", "pools"],
        Tab::KvCache => &["kv", "kvcache"],
        Tab::Throughput => &["throughput", "tokens"],
        Tab::EppRouting => &["epp", "routing"],
        Tab::Benchmarks => &["benchmarks", "nightly"],
        Tab::MlJobs => &["jobs", "mljobs"],
        Tab::Agents => &["agents"],
        Tab::Builds => &["builds"],
        Tab::McpTools => &["tools", "mcp"],
        Tab::Discovery => &["discovery", "cards"],
        Tab::Topology => &["topology"],
        Tab::Security => &["security"],
        Tab::Status => &["status", "platform"],
    }
}

pub fn parse(line: &str, contexts: &[String]) -> Result<Command, String> {
    let mut words = line.split_whitespace();
    let Some(cmd) = words.next() else { return Err("empty command".into()) };
    let rest: Vec<&str> = words.collect();
    match cmd {
        "q" | "quit" | "q!" => Ok(Command::Quit),
        "help" | "?" => Ok(Command::Help),
        "ctx" | "context" => match rest.first() {
            None => Ok(Command::Context(None)),
            Some(name) => contexts
                .iter()
                .find(|c| c.as_str() == *name)
                .or_else(|| contexts.iter().find(|c| c.starts_with(name)))
                .map(|c| Command::Context(Some(c.clone())))
                .ok_or_else(|| format!("no context {name:?}")),
        },
        "pods" | "po" => match rest.first() {
            Some(ns) => Ok(Command::Pods {
                namespace: ns.to_string(),
                selector: rest.get(1).map(|s| s.to_string()).unwrap_or_default(),
            }),
            None => Err("usage: :pods NAMESPACE [LABEL-SELECTOR]".into()),
        },
        other => ALL
            .iter()
            .find(|t| tab_words(**t).contains(&other))
            .map(|t| Command::Tab(*t))
            .ok_or_else(|| format!("unknown command {other:?} (try :agents, :kv, :ctx NAME, :pods NS, :q)")),
    }
}

/// Completions for what is typed so far.
pub fn complete(line: &str, contexts: &[String]) -> Vec<String> {
    let mut words: Vec<&str> = line.split(' ').collect();
    let last = words.pop().unwrap_or("");
    if words.is_empty() {
        let mut all: Vec<&str> = ALL.iter().flat_map(|t| tab_words(*t).iter().copied()).collect();
        all.extend(["ctx", "pods", "help", "quit"]);
        return all.into_iter().filter(|w| w.starts_with(last)).map(str::to_string).collect();
    }
    if matches!(words[0], "ctx" | "context") && words.len() == 1 {
        return contexts.iter().filter(|c| c.starts_with(last)).map(|c| format!("ctx {c}")).collect();
    }
    Vec::new()
}

/// The line being typed, with its history.
#[derive(Debug, Default, Clone)]
pub struct Prompt {
    pub line: String,
    pub history: Vec<String>,
    /// Position while walking the history with Up/Down.
    pub cursor: Option<usize>,
    pub error: Option<String>,
}

impl Prompt {
    pub fn up(&mut self) {
        if self.history.is_empty() {
            return;
        }
        let i = self.cursor.map_or(self.history.len() - 1, |i| i.saturating_sub(1));
        self.cursor = Some(i);
        self.line = self.history[i].clone();
    }
    pub fn down(&mut self) {
        match self.cursor {
            Some(i) if i + 1 < self.history.len() => {
                self.cursor = Some(i + 1);
                self.line = self.history[i + 1].clone();
            }
            _ => {
                self.cursor = None;
                self.line.clear();
            }
        }
    }
    pub fn remember(&mut self) {
        if !self.line.is_empty() && self.history.last() != Some(&self.line) {
            self.history.push(self.line.clone());
            if self.history.len() > 100 {
                self.history.remove(0);
            }
        }
        self.cursor = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx() -> Vec<String> {
        vec!["gpu-us-east".into(), "gpu-eu-west".into(), "agents-us-central".into()]
    }

    #[test]
    fn commands_parse() {
        assert_eq!(parse("agents", &ctx()), Ok(Command::Tab(Tab::Agents)));
        assert_eq!(parse("kv", &ctx()), Ok(Command::Tab(Tab::KvCache)));
        assert_eq!(parse("ctx gpu-eu", &ctx()), Ok(Command::Context(Some("gpu-eu-west".into()))));
        assert_eq!(parse("ctx", &ctx()), Ok(Command::Context(None)));
        assert_eq!(
            parse("pods llm-d app=x", &ctx()),
            Ok(Command::Pods { namespace: "llm-d".into(), selector: "app=x".into() })
        );
        assert_eq!(parse("q", &ctx()), Ok(Command::Quit));
        assert!(parse("ctx nope", &ctx()).is_err());
        assert!(parse("frobnicate", &ctx()).unwrap_err().contains(":agents"));
    }

    #[test]
    fn completion_and_history() {
        assert_eq!(complete("ag", &ctx()), vec!["agents".to_string()]);
        assert_eq!(complete("ctx gpu-e", &ctx()), vec!["ctx gpu-eu-west".to_string()]);
        let mut p = Prompt::default();
        for l in ["kv", "agents"] {
            p.line = l.into();
            p.remember();
        }
        p.line.clear();
        p.up();
        assert_eq!(p.line, "agents");
        p.up();
        assert_eq!(p.line, "kv");
        p.down();
        assert_eq!(p.line, "agents");
        p.down();
        assert_eq!(p.line, "");
    }
}
