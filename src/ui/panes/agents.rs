//! Agents: every Kagenti/Rossoctl agent across clusters with health, replicas, restarts, the
//! LLM provider its env points at; `t` turns one off or on after a permission check and a
//! confirmation that names the exact change.

use crossterm::event::KeyEvent;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};
use ratatui::Frame;

use crate::store::kagenti::{health, AgentInfo, CardState, Health};
use crate::store::pane::PaneId;
use crate::theme::Theme;
use crate::ui::component::{Component, Ctx, Group, Hint, Outcome, Pane, Write};
use crate::ui::keymap::Action;
use crate::ui::widgets::detail;
use crate::ui::widgets::state::DASH;
use crate::ui::widgets::table::{cell, cell_ref, split_below, Col, DataTable, ListState};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum AgentSort {
    #[default]
    Cluster,
    Health,
    Restarts,
    Name,
}

impl AgentSort {
    fn next(self) -> AgentSort {
        match self {
            AgentSort::Cluster => AgentSort::Health,
            AgentSort::Health => AgentSort::Restarts,
            AgentSort::Restarts => AgentSort::Name,
            AgentSort::Name => AgentSort::Cluster,
        }
    }
    fn name(self) -> &'static str {
        match self {
            AgentSort::Cluster => "cluster",
            AgentSort::Health => "health",
            AgentSort::Restarts => "restarts",
            AgentSort::Name => "name",
        }
    }
    /// The column the header marks (AGENT, HEALTH, RESTARTS), descending or not.
    fn column(self) -> Option<(usize, bool)> {
        match self {
            AgentSort::Cluster => None,
            AgentSort::Health => Some((4, true)),
            AgentSort::Restarts => Some((5, true)),
            AgentSort::Name => Some((0, false)),
        }
    }
}

#[derive(Default)]
pub struct Agents {
    list: ListState,
    pub sort: AgentSort,
}

pub fn health_style(t: &Theme, h: &Health) -> Style {
    match h {
        Health::Healthy => t.ok,
        Health::Paused | Health::ScaledToZero => t.muted,
        Health::Progressing(_) | Health::Degraded(_) => t.warn,
        Health::Failing(_) => t.crit,
    }
}

pub fn health_symbol(h: &Health) -> &'static str {
    match h {
        Health::Healthy => "●",
        Health::Paused | Health::ScaledToZero => "◌",
        Health::Progressing(_) | Health::Degraded(_) => "▲",
        Health::Failing(_) => "✖",
    }
}

/// Agents (not tools) on visible clusters that pass the filter, in the chosen order.
pub fn agents<'a>(cx: &Ctx<'a>, sort: AgentSort) -> Vec<(usize, &'a AgentInfo)> {
    let fleet = cx.fleet;
    let mut v: Vec<(usize, &AgentInfo)> = cx
        .cluster_indices()
        .into_iter()
        // a WDS's objects are placement sources, not running agents (Placement shows them)
        .filter(|i| !fleet.clusters[*i].placement.is_wds())
        .flat_map(|i| fleet.clusters[i].kagenti.agents.iter().map(move |a| (i, a)))
        .filter(|(_, a)| a.wtype == "agent")
        .filter(|(i, a)| {
            cx.keep(|| {
                format!(
                    "{} {} {} {}",
                    fleet.clusters[*i].context,
                    a.namespace,
                    a.name,
                    a.framework.as_deref().unwrap_or("")
                )
            })
        })
        .collect();
    match sort {
        AgentSort::Cluster => {}
        AgentSort::Health => v.sort_by_key(|(_, a)| std::cmp::Reverse(health(a))),
        AgentSort::Restarts => v.sort_by_key(|(_, a)| std::cmp::Reverse(a.restarts.unwrap_or(0))),
        AgentSort::Name => v.sort_by(|a, b| a.1.name.cmp(&b.1.name)),
    }
    v
}

fn keys(cx: &Ctx, rows: &[(usize, &AgentInfo)]) -> Vec<String> {
    rows.iter().map(|(i, a)| format!("{}/{}/{}", cx.cluster(*i).context, a.namespace, a.name)).collect()
}

impl Agents {
    /// `t`: the write that turns the selected agent off (or back on to its previous count).
    fn toggle(&self, cx: &Ctx) -> Outcome {
        let rows = agents(cx, self.sort);
        let Some((cluster, a)) = self.list.selected().and_then(|i| rows.get(i)) else { return Outcome::Handled };
        let (from, to) =
            if a.desired > 0 { (a.desired, 0) } else { (0, a.previous_replicas.filter(|p| *p > 0).unwrap_or(1)) };
        Outcome::Write(Write::Toggle {
            target: crate::actions::ToggleTarget {
                cluster: *cluster,
                namespace: a.namespace.clone(),
                name: a.name.clone(),
                kind: a.kind,
                from,
                to,
            },
            hpa: a.hpa.clone(),
        })
    }
}

impl Pane for Agents {
    fn id(&self) -> PaneId {
        PaneId::Agents
    }
    fn title(&self) -> &'static str {
        "Agents"
    }
    fn group(&self) -> Group {
        Group::Kagenti
    }
    fn has_data(&self, fleet: &crate::store::Fleet) -> bool {
        super::any_kagenti(fleet)
    }
    fn reveal(&mut self, context: &str, find: &crate::store::problems::Find) -> bool {
        let Some(find) = find.name() else { return false };
        self.list.reveal(&format!("{context}/"), find);
        true
    }
}

impl Component for Agents {
    fn legend(&self) -> Vec<(&'static str, &'static str)> {
        vec![
            ("● healthy", "all replicas Ready"),
            ("▲ progressing/degraded", "some replicas not Ready"),
            ("✖ failing", "none Ready with restarts or a failed condition"),
            ("◌ paused/scaled to 0", "off (kst remembers the count when it turned it off)"),
        ]
    }

    fn hints(&self) -> Vec<Hint> {
        vec![
            Hint::action(Action::Select, "the agent's pods"),
            Hint::action(Action::Toggle, "turn the agent off / on (asks first; not in read-only or kiosk)").writes(),
            Hint::action(Action::Sort, "sort: cluster, health, restarts, name"),
        ]
    }

    fn on_key(&mut self, _key: KeyEvent, action: Option<Action>, cx: &Ctx) -> Outcome {
        let rows = agents(cx, self.sort);
        let keys = keys(cx, &rows);
        if let Some(o) = super::motion(&mut self.list, action, &keys) {
            return o;
        }
        self.list.sync(&keys);
        match action {
            Some(Action::Select) => match self.list.selected().and_then(|i| rows.get(i)) {
                Some((i, a)) if !a.selector.is_empty() => {
                    super::pods_of(cx, *i, &a.namespace, &a.name, a.selector.clone())
                }
                _ => Outcome::Handled,
            },
            Some(Action::Toggle) => self.toggle(cx),
            Some(Action::Sort) => {
                self.sort = self.sort.next();
                Outcome::Redraw
            }
            _ => Outcome::Ignored,
        }
    }

    fn copy_text(&mut self, cx: &Ctx) -> Option<String> {
        let rows = agents(cx, self.sort);
        self.list.sync(&keys(cx, &rows));
        rows.get(self.list.selected()?).map(|(_, a)| a.name.clone())
    }

    fn click(&mut self, row: u16) -> bool {
        self.list.click(row)
    }

    fn draw(&mut self, f: &mut Frame, area: Rect, cx: &Ctx) {
        let t = cx.theme;
        let rows = agents(cx, self.sort);
        let [list_area, detail_area, absent_area] =
            Layout::vertical([Constraint::Min(4), Constraint::Length(3), Constraint::Length(1)]).areas(area);
        // the rows a short list leaves (a big screen) hold the selected agent in full
        let need = (rows.len() as u16 + 3).max(6);
        let (table_area, full_area) = split_below(list_area, need, FULL_MIN);
        let now = cx.now();
        let cols = vec![
            Col::name("AGENT").min(20),
            Col::text("FRAMEWORK").min(8).optional(3),
            Col::text("PROTO").min(5).optional(2),
            Col::whole("READY"),
            Col::text("HEALTH").min(10),
            Col::whole("RESTARTS"),
            Col::text("LLM").min(8),
            Col::whole("AGE").optional(4),
        ];
        let title = format!(" Agents ({}) · sorted by {} ", rows.len(), self.sort.name());
        let mut table = DataTable::new(title, cols);
        table.sort = self.sort.column();
        table.empty = "no agents on the visible clusters".into();
        for (i, a) in &rows {
            let h = health(a);
            table.rows.push(vec![
                cell(cx.qualified(*i, &format!("{}/{}", a.namespace, a.name)), t.text),
                cell_ref(a.framework.as_deref().unwrap_or(DASH), t.text),
                cell(if a.protocols.is_empty() { DASH.to_string() } else { a.protocols.join(",") }, t.text),
                cell(format!("{}/{}", a.ready, a.desired), t.text),
                cell(format!("{} {}", health_symbol(&h), h.word()), health_style(t, &h)),
                cell(a.restarts.map(|r| r.to_string()).unwrap_or_else(|| DASH.into()), t.text),
                cell_ref(a.provider.as_deref().unwrap_or(DASH), t.text),
                cell(crate::ui::widgets::fmt::age(a.created.as_deref(), now), t.text),
            ]);
        }
        self.list.sync(&keys(cx, &rows));
        table.draw(f, table_area, &mut self.list, t);
        if let Some((i, a)) = self.list.selected().and_then(|k| rows.get(k)) {
            let h = health(a);
            let cond = |c: &Option<crate::store::kagenti::Cond>| {
                c.as_ref()
                    .map(|c| format!("{} ({})", if c.ok { "ok" } else { "not ok" }, c.reason))
                    .unwrap_or_else(|| DASH.into())
            };
            let lines = vec![
                Line::from(vec![
                    Span::styled(format!("{} ", a.name), t.accent),
                    Span::styled(h.label(), health_style(t, &h)),
                    Span::styled(
                        format!(
                            " · {} {} on {} · {} naming · sa {}",
                            a.kind.name(),
                            a.namespace,
                            cx.display_name(&cx.cluster(*i).context),
                            a.brand.name(),
                            a.service_account
                        ),
                        t.muted,
                    ),
                ]),
                Line::from(Span::styled(
                    format!(
                        "runtime Ready {} · card Synced {} · model {}{}{}",
                        cond(&a.runtime_ready),
                        cond(&a.card_synced),
                        a.model.as_deref().unwrap_or(DASH),
                        a.hpa.as_ref().map(|h| format!(" · HPA {h} targets it")).unwrap_or_default(),
                        {
                            // the BindingPolicy that placed it here, when a WDS is among the contexts
                            let by = crate::store::placement::placed_by(
                                &cx.fleet.placement_views(),
                                &cx.cluster(*i).context,
                                |o| o.namespace == a.namespace && o.name == a.name,
                            );
                            if by.is_empty() {
                                String::new()
                            } else {
                                format!(" · placed via {}", by.join(", "))
                            }
                        }
                    ),
                    t.muted,
                )),
            ];
            f.render_widget(Paragraph::new(lines).wrap(Wrap { trim: true }), detail_area);
            if let Some(area) = full_area {
                let title = cx.qualified(*i, &format!("{}/{}", a.namespace, a.name));
                detail::draw(f, area, &title, in_full(cx, *i, a), t);
            }
        }
        f.render_widget(Paragraph::new(super::kagenti_absent_line(cx)), absent_area);
    }
}

/// The rows the selected agent in full wants before it is drawn under the list.
const FULL_MIN: u16 = 8;

/// The selected agent in full, as `kubectl describe` and the card would tell it: its card's
/// skills, who it calls and who calls it, its identity and transport, its security findings and
/// its builds; each line says `—` where kst has not read it.
fn in_full(cx: &Ctx, i: usize, a: &AgentInfo) -> Vec<Line<'static>> {
    let t = cx.theme;
    let k = &cx.cluster(i).kagenti;
    let field = |name: &str, v: String| detail::text(t, name, v);
    let mut out = Vec::new();
    let card = match k.cards.get(&a.key()) {
        Some(CardState::Indexed(c)) | Some(CardState::Fetched(c)) => {
            let skills: Vec<String> = c.skills.iter().map(|s| s.name.clone()).collect();
            format!(
                "{} {} · protocol {} · skills: {}",
                c.name,
                c.version.as_deref().unwrap_or(DASH),
                c.protocol_version.as_deref().unwrap_or(DASH),
                if skills.is_empty() { DASH.to_string() } else { skills.join(", ") }
            )
        }
        Some(CardState::Error(e)) => format!("not read: {e}"),
        None => DASH.to_string(),
    };
    out.push(field("card", card));
    if let Some(CardState::Indexed(c) | CardState::Fetched(c)) = k.cards.get(&a.key()) {
        let yes = |b: Option<bool>| b.map(|b| if b { "yes" } else { "no" }).unwrap_or(DASH);
        out.push(field(
            "serves",
            format!(
                "{} · {} · streaming {} · push {}",
                c.url.as_deref().unwrap_or(DASH),
                c.binding.as_deref().unwrap_or(DASH),
                yes(c.streaming),
                yes(c.push)
            ),
        ));
    }
    // the A2A and MCP calls the topology knows of, both ways
    let me = |n: &crate::store::topology::Node| n.cluster == i && n.namespace == a.namespace && n.name == a.name;
    let calls: Vec<String> =
        k.edges().iter().filter(|e| me(&e.from)).map(|e| format!("{} ({})", e.to.label(), e.evidence())).collect();
    let called: Vec<String> =
        k.edges().iter().filter(|e| me(&e.to)).map(|e| format!("{} ({})", e.from.label(), e.evidence())).collect();
    // an empty list read is said as such; `—` is kept for what kst has not read
    let list = detail::list;
    out.push(field("calls", list(calls, "none seen (env or AuthBridge stats)")));
    out.push(field("called by", list(called, "none seen")));
    let yes_no = |b: Option<bool>, yes: &str, no: &str| match b {
        Some(true) => yes.to_string(),
        Some(false) => no.to_string(),
        None => DASH.to_string(),
    };
    out.push(field(
        "identity",
        format!(
            "sa {} · SPIFFE identity {} · card signature {} · AuthBridge {} · mTLS {} · transport {}",
            a.service_account,
            yes_no(a.identity_bound, "bound", "not bound"),
            yes_no(a.valid_signature, "verified", "not verified"),
            if a.inject_disabled {
                "opted out".to_string()
            } else if a.authbridge_pods.is_empty() {
                DASH.to_string()
            } else {
                format!("in {} pod(s)", a.authbridge_pods.len())
            },
            a.mtls_mode.as_deref().unwrap_or(DASH),
            a.transport.as_deref().unwrap_or(DASH)
        ),
    ));
    // what its ServiceAccount may do, binding by binding (RBAC read, else `—`)
    let grants: Vec<String> = k
        .rbac
        .as_ref()
        .map(|r| {
            r.grants(&a.namespace, &a.service_account)
                .iter()
                .map(|g| {
                    let rules: Vec<String> =
                        g.rules.iter().map(|r| format!("{} on {}", r.verbs.join(","), r.resources.join(","))).collect();
                    format!(
                        "{} {} -> {} {}: {}",
                        g.binding.kind,
                        g.binding.name,
                        g.binding.role_kind,
                        g.binding.role_name,
                        rules.join("; ")
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    let rbac_read = k.rbac.is_some();
    out.push(field(
        "grants",
        if rbac_read {
            list(grants, "none: no binding names its ServiceAccount")
        } else {
            format!("{DASH} (RBAC not read)")
        },
    ));
    let subject = format!("{}/{}", a.namespace, a.name);
    let findings: Vec<String> = k
        .findings()
        .iter()
        .filter(|f| f.subject == subject)
        .map(|f| format!("{} {}: {}", f.severity.name(), f.rule, f.detail))
        .collect();
    out.push(field("findings", list(findings, "none")));
    let builds: Vec<String> = k
        .builds
        .iter()
        .filter(|b| b.namespace == a.namespace && b.name == a.name)
        .flat_map(|b| b.runs.iter().take(3))
        .map(|r| {
            let outcome = match r.outcome {
                Some(true) => "ok".to_string(),
                Some(false) => format!("failed: {}", r.reason.as_deref().unwrap_or("")),
                None => "running".to_string(),
            };
            format!("{} {outcome}", r.name)
        })
        .collect();
    out.push(field("builds", list(builds, "none: no Shipwright Build of this name")));
    out
}
