//! `:` command mode: jump anywhere by name, with completion (Tab) and history (Up/Down).
//! `:agents`, `:kv`, `:serving`, ... a pane (its id or another word it answers to); `:ctx
//! NAME` focuses a cluster (`:ctx` alone: every cluster, on the Overview to pick one); `:pods
//! [NS [SELECTOR]]` lists pods (no namespace: every namespace) on the focused cluster or on
//! every cluster; `:promql EXPR` asks the query layers (the expression checked here first);
//! `:pf` lists the port-forwards; `:q` quits.

use crossterm::event::KeyEvent;

/// A parsed command.
#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    Quit,
    Help,
    /// A pane, by its index in the tab list.
    Tab(usize),
    Context(Option<String>),
    Pods {
        namespace: String,
        selector: String,
    },
    /// `:deploy [NS]`, `:ns`.
    Objects {
        kind: crate::store::views::ObjectKind,
        namespace: String,
    },
    /// `:promql EXPR`: an instant query to the query layers, checked first.
    Promql(String),
    /// `:pf`: the port-forwards running.
    PortForwards,
}

/// The words each pane answers to: its id, then its aliases.
pub type PaneWords<'a> = [(&'a str, &'a [&'a str])];

fn words_of<'a>(panes: &'a PaneWords<'a>) -> impl Iterator<Item = (usize, &'a str)> + 'a {
    panes
        .iter()
        .enumerate()
        .flat_map(|(i, (id, more))| std::iter::once((i, *id)).chain(more.iter().map(move |w| (i, *w))))
}

pub fn parse(line: &str, contexts: &[String], panes: &PaneWords) -> Result<Command, String> {
    let mut words = line.split_whitespace();
    let Some(cmd) = words.next() else { return Err("empty command".into()) };
    let rest: Vec<&str> = words.collect();
    match cmd {
        "promql" | "query" => {
            // the expression is the rest of the line as typed (spaces and all)
            let expr = line.trim_start()[cmd.len()..].trim();
            if expr.is_empty() {
                return Err(
                    ":promql needs an expression, e.g. :promql sum by (cluster) (vllm:num_requests_waiting)".into()
                );
            }
            crate::sources::prom::check_promql(expr).map_err(|e| format!("PromQL: {e}"))?;
            Ok(Command::Promql(expr.to_string()))
        }
        "q" | "quit" | "q!" => Ok(Command::Quit),
        "pf" | "portforward" | "portforwards" | "port-forwards" => Ok(Command::PortForwards),
        "help" | "?" => Ok(Command::Help),
        "ctx" | "context" | "contexts" => match rest.first() {
            None => Ok(Command::Context(None)),
            Some(name) => contexts
                .iter()
                .find(|c| c.as_str() == *name)
                .or_else(|| contexts.iter().find(|c| c.starts_with(name)))
                .map(|c| Command::Context(Some(c.clone())))
                .ok_or_else(|| format!("no context {name:?}")),
        },
        "pods" | "po" | "pod" => Ok(Command::Pods {
            namespace: rest.first().map(|s| s.to_string()).unwrap_or_default(),
            selector: rest.get(1).map(|s| s.to_string()).unwrap_or_default(),
        }),
        "deploy" | "deployments" | "deployment" | "dp" => Ok(Command::Objects {
            kind: crate::store::views::ObjectKind::Deployments,
            namespace: rest.first().map(|s| s.to_string()).unwrap_or_default(),
        }),
        "ns" | "namespace" | "namespaces" => {
            Ok(Command::Objects { kind: crate::store::views::ObjectKind::Namespaces, namespace: String::new() })
        }
        other => words_of(panes).find(|(_, w)| *w == other).map(|(i, _)| Command::Tab(i)).ok_or_else(|| {
            format!(
                "unknown command {other:?} (try :agents, :kv, :ctx NAME, :pods NS, :deploy NS, :ns, :promql EXPR, :q)"
            )
        }),
    }
}

/// Completions for what is typed so far.
pub fn complete(line: &str, contexts: &[String], panes: &PaneWords) -> Vec<String> {
    let mut words: Vec<&str> = line.split(' ').collect();
    let last = words.pop().unwrap_or("");
    if words.is_empty() {
        // kubectl's and k9s' short names first: `:po` Tab is pods, not pools
        let alias = match last {
            "po" | "pod" => Some("pods"),
            "dp" | "deployment" | "deployments" => Some("deploy"),
            "ns" | "namespace" | "namespaces" => Some("ns"),
            "ctx" | "context" | "contexts" => Some("ctx"),
            _ => None,
        };
        let mut all: Vec<&str> = alias.into_iter().collect();
        all.extend(["ctx", "pods", "deploy", "ns", "pf", "promql", "help", "quit"]);
        all.extend(words_of(panes).map(|(_, w)| w));
        let mut seen = std::collections::HashSet::new();
        return all
            .into_iter()
            .filter(|w| alias == Some(*w) || w.starts_with(last))
            .filter(|w| seen.insert(*w))
            .map(str::to_string)
            .collect();
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

/// What a key did to the prompt.
pub enum Typed {
    Nothing,
    Edited,
    Cancel,
    Run(Result<Command, String>),
}

impl Prompt {
    /// A key while the prompt is open: edit, complete, walk the history, run or cancel.
    pub fn on_key(&mut self, k: crossterm::event::KeyEvent, contexts: &[String], panes: &PaneWords) -> Typed {
        use crossterm::event::{KeyCode, KeyModifiers};
        self.error = None;
        match k.code {
            KeyCode::Esc => return Typed::Cancel,
            KeyCode::Enter => {
                self.remember();
                return Typed::Run(parse(&self.line, contexts, panes));
            }
            KeyCode::Char('u') if k.modifiers.contains(KeyModifiers::CONTROL) => self.line.clear(),
            KeyCode::Tab => {
                if let Some(first) = complete(&self.line, contexts, panes).first() {
                    self.line = first.clone();
                }
            }
            KeyCode::Up => self.up(),
            KeyCode::Down => self.down(),
            KeyCode::Backspace => {
                self.line.pop();
            }
            KeyCode::Char(c) => self.line.push(c),
            _ => return Typed::Nothing,
        }
        Typed::Edited
    }

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

/// Running what was typed at the prompt: the App's routing for commands.
impl super::App {
    fn pane_words(&self) -> Vec<(&'static str, &'static [&'static str])> {
        self.panes.iter().map(|p| (p.id().name(), p.aliases())).collect()
    }

    pub(super) fn prompt_key(&mut self, k: KeyEvent) -> bool {
        use super::command::{Command, Typed};
        // contexts, then the clusters known only through a hub (`:ctx` dials those as Enter does)
        let mut contexts: Vec<String> = self.fleet.clusters.iter().map(|c| c.context.clone()).collect();
        let hub_only: Vec<(String, String)> =
            self.fleet.hub_clusters().iter().map(|h| (h.name.clone(), h.hub.clone())).collect();
        contexts.extend(hub_only.iter().map(|(name, _)| name.clone()));
        let words = self.pane_words();
        let Some(p) = self.prompt.as_mut() else { return false };
        let parsed = match p.on_key(k, &contexts, &words) {
            Typed::Nothing => return false,
            Typed::Edited => return true,
            Typed::Cancel => None,
            Typed::Run(r) => Some(r),
        };
        // the prompt closes either way; a failed command says why in the footer
        self.history = std::mem::take(&mut p.history);
        self.prompt = None;
        match parsed {
            None => {}
            Some(Err(e)) => self.flash = Some(e),
            Some(Ok(Command::Quit)) => self.quit = true,
            Some(Ok(Command::Help)) => self.show_help = true,
            Some(Ok(Command::Tab(i))) => self.set_tab(i),
            Some(Ok(Command::Context(Some(name)))) if !self.fleet.clusters.iter().any(|x| x.context == name) => {
                let hub = hub_only.into_iter().find(|(n, _)| *n == name).map(|(_, h)| h).unwrap_or_default();
                self.set_tab(0);
                self.apply(super::component::Outcome::Dial { name, hub }, false);
            }
            Some(Ok(Command::Context(c))) => {
                self.focus = c.and_then(|c| self.fleet.clusters.iter().position(|x| x.context == c));
                match self.focus {
                    Some(i) => self.dial_context(i),
                    None => self.set_tab(0),
                }
            }
            Some(Ok(Command::Objects { kind, namespace })) => {
                self.set_tab(self.tab);
                if !self.feeds.available() {
                    self.flash = Some("drill-down is not available here".into());
                    return true;
                }
                let clusters: Vec<usize> = match self.focus {
                    Some(c) => vec![c],
                    None => (0..self.fleet.clusters.len()).collect(),
                };
                let where_ = match self.focus {
                    Some(c) => self.fleet.clusters[c].context.clone(),
                    None => "every cluster".into(),
                };
                let crumb = match (&kind, namespace.is_empty()) {
                    (crate::store::views::ObjectKind::Deployments, false) => {
                        format!("deployments in {namespace} on {where_}")
                    }
                    _ => format!("{} on {where_}", kind.plural()),
                };
                let v = super::views::ObjectsView::open(&self.feeds, kind, &clusters, &namespace, crumb);
                self.views.push(Box::new(v));
                self.views_by_command = true;
            }
            Some(Ok(Command::PortForwards)) => {
                self.set_tab(self.tab);
                self.views.push(Box::new(super::views::PortForwards::default()));
                self.views_by_command = true;
            }
            Some(Ok(Command::Promql(expr))) => {
                self.set_tab(self.tab);
                let crumb = format!("promql {expr}");
                self.open_view(crate::sources::views::ViewSpec::Query { expr }, crumb);
                self.views_by_command = !self.views.is_empty();
            }
            Some(Ok(Command::Pods { namespace, selector })) => {
                self.set_tab(self.tab);
                let ns = if namespace.is_empty() { "all namespaces".to_string() } else { namespace.clone() };
                match self.focus {
                    Some(cluster) => {
                        let crumb = format!("{} pods in {ns}", self.fleet.clusters[cluster].context);
                        self.open_view(crate::sources::views::ViewSpec::Pods { cluster, namespace, selector }, crumb);
                        self.views_by_command = !self.views.is_empty();
                    }
                    // every cluster: one list, one watch each
                    None if self.feeds.available() => {
                        let all: Vec<usize> = (0..self.fleet.clusters.len()).collect();
                        let crumb = format!("pods in {ns} on every cluster");
                        let v = super::views::FleetPods::open(&self.feeds, &all, &namespace, &selector, crumb);
                        self.views.push(Box::new(v));
                        self.views_by_command = true;
                    }
                    None => self.flash = Some("drill-down is not available here".into()),
                }
            }
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx() -> Vec<String> {
        vec!["gpu-us-east".into(), "gpu-eu-west".into(), "agents-us-central".into()]
    }

    const PANES: &[(&str, &[&str])] = &[("overview", &["clusters"]), ("kv", &["kvcache"]), ("agents", &[])];

    #[test]
    fn promql_takes_the_rest_of_the_line_checked() {
        let q = "sum by (cluster) (rate(vllm:generation_tokens_total[1m]))";
        assert_eq!(parse(&format!("  promql   {q}  "), &ctx(), PANES), Ok(Command::Promql(q.into())));
        assert_eq!(parse("query up", &ctx(), PANES), Ok(Command::Promql("up".into())));
        assert!(parse("promql", &ctx(), PANES).unwrap_err().contains("needs an expression"));
        assert!(parse("promql up[5m]", &ctx(), PANES).unwrap_err().starts_with("PromQL: a range vector"));
        assert!(parse("promql sum(up", &ctx(), PANES).unwrap_err().starts_with("PromQL: "));
    }

    #[test]
    fn commands_parse() {
        assert_eq!(parse("agents", &ctx(), PANES), Ok(Command::Tab(2)));
        assert_eq!(parse("kvcache", &ctx(), PANES), Ok(Command::Tab(1)));
        assert_eq!(parse("ctx gpu-eu", &ctx(), PANES), Ok(Command::Context(Some("gpu-eu-west".into()))));
        assert_eq!(parse("ctx", &ctx(), PANES), Ok(Command::Context(None)));
        assert_eq!(
            parse("pods llm-d app=x", &ctx(), PANES),
            Ok(Command::Pods { namespace: "llm-d".into(), selector: "app=x".into() })
        );
        assert_eq!(parse("po", &ctx(), PANES), Ok(Command::Pods { namespace: "".into(), selector: "".into() }));
        use crate::store::views::ObjectKind;
        assert_eq!(
            parse("deploy llm-d", &ctx(), PANES),
            Ok(Command::Objects { kind: ObjectKind::Deployments, namespace: "llm-d".into() })
        );
        assert_eq!(
            parse("ns", &ctx(), PANES),
            Ok(Command::Objects { kind: ObjectKind::Namespaces, namespace: "".into() })
        );
        assert_eq!(parse("q", &ctx(), PANES), Ok(Command::Quit));
        assert!(parse("ctx nope", &ctx(), PANES).is_err());
        assert!(parse("frobnicate", &ctx(), PANES).unwrap_err().contains(":agents"));
    }

    #[test]
    fn completion_and_history() {
        assert_eq!(complete("ag", &ctx(), PANES), vec!["agents".to_string()]);
        // k9s' `:po` is pods, though the pools pane also starts with "po"
        const WITH_POOLS: &[(&str, &[&str])] = &[("pools", &[]), ("deploys", &[])];
        assert_eq!(complete("po", &ctx(), WITH_POOLS).first().map(String::as_str), Some("pods"));
        assert_eq!(complete("dp", &ctx(), WITH_POOLS).first().map(String::as_str), Some("deploy"));
        assert!(complete("poo", &ctx(), WITH_POOLS).contains(&"pools".to_string()));
        assert_eq!(complete("ctx gpu-e", &ctx(), PANES), vec!["ctx gpu-eu-west".to_string()]);
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
