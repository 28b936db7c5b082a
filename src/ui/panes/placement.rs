//! Placement (KubeStellar): per BindingPolicy of every WDS among the contexts, its cluster
//! selectors, the clusters its Binding selected, the objects it binds, and a matrix objects x
//! clusters saying what reached each cluster (bound, delivered, applied, the status reported
//! back), then the drift upstream does not report. `e` explains, term by term, why each
//! ManagedCluster of the ITS is or is not selected.

use crossterm::event::KeyEvent;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph, Wrap};
use ratatui::Frame;

use crate::store::pane::PaneId;
use crate::store::placed::{self, PlacedObject};
use crate::store::placement::{self, Cell, PolicyView};
use crate::ui::component::{Component, Ctx, Group, Hint, Outcome, Pane};
use crate::ui::keymap::Action;
use crate::ui::widgets::table::{cell, split_below, Col, DataTable, ListState};

#[derive(Default)]
pub struct Placement {
    list: ListState,
    /// The explanation of the selected policy instead of its matrix.
    explain: bool,
    /// The matrix column (cluster) that Enter opens (`h`/`l` move it).
    col: usize,
    /// One row per object instead of per policy (`v`).
    by_object: bool,
    objects: ListState,
    /// The selected policy's matrix rows (PgDn/PgUp, Ctrl-d/u move through them) and the
    /// explanation's first line; both start over when another policy is selected.
    matrix: ListState,
    explain_scroll: u16,
    detail_of: Option<String>,
}

/// The keys that page through the selected policy's matrix or explanation.
fn pages(a: Option<Action>) -> bool {
    matches!(a, Some(Action::PageDown | Action::PageUp | Action::HalfPageDown | Action::HalfPageUp))
}

/// Every policy of the fleet's WDSes, through the filter.
pub fn rows(cx: &Ctx) -> Vec<PolicyView> {
    cx.fleet
        .placement_views()
        .iter()
        .filter(|v| {
            cx.keep(|| {
                format!("{} {} {} {}", v.wds, v.policy.name, v.clusters.join(" "), placement::selectors_text(&v.policy))
            })
        })
        .cloned()
        .collect()
}

/// Every bound object of the fleet's WDSes, through the filter (its name, its policies, its
/// clusters).
fn object_rows(cx: &Ctx) -> Vec<PlacedObject> {
    placed::by_object(&cx.fleet.placement_views())
        .into_iter()
        .filter(|o| {
            cx.keep(|| {
                let clusters: Vec<&str> = o.clusters.iter().map(|c| c.cluster.as_str()).collect();
                format!("{} {} {} {}", o.wds, o.object.text(), o.policies.join(" "), clusters.join(" "))
            })
        })
        .collect()
}

fn object_keys(rows: &[PlacedObject]) -> Vec<String> {
    rows.iter().map(|o| format!("{}/{}", o.wds, o.object.text())).collect()
}

fn keys(rows: &[PolicyView]) -> Vec<String> {
    rows.iter().map(|v| format!("{}/{}", v.wds, v.policy.name)).collect()
}

/// `✓ placed`, `✖ 2 drift`, `! 1 drift`: the worst of the policy's drift.
fn state(cx: &Ctx, v: &PolicyView) -> (String, ratatui::style::Style) {
    let t = cx.theme;
    if v.gone {
        // a deleted policy whose ManifestWorks remain
        (format!("! {} orphaned", v.drift.len()), t.warn)
    } else if v.drift.is_empty() {
        ("✓ placed".into(), t.ok)
    } else if v.drift.iter().any(|d| d.severe()) {
        (format!("✖ {} drift", v.drift.len()), t.crit)
    } else {
        (format!("! {} drift", v.drift.len()), t.warn)
    }
}

impl Pane for Placement {
    fn id(&self) -> PaneId {
        PaneId::Placement
    }
    fn title(&self) -> &'static str {
        "Placement"
    }
    fn short_title(&self) -> &'static str {
        "Place"
    }
    fn group(&self) -> Group {
        Group::KubeStellar
    }
    fn aliases(&self) -> &'static [&'static str] {
        &["bindingpolicies", "bp", "kubestellar"]
    }
    fn has_data(&self, fleet: &crate::store::Fleet) -> bool {
        fleet.clusters.iter().any(|c| c.placement.is_wds())
    }
    fn reveal(&mut self, context: &str, find: &crate::store::problems::Find) -> bool {
        let Some(find) = find.name() else { return false };
        self.list.reveal(&format!("{context}/"), find);
        true
    }
}

impl Component for Placement {
    fn legend(&self) -> Vec<(&'static str, &'static str)> {
        vec![
            ("● 2/2 ready", "applied, and the cluster's status came back (WorkStatus)"),
            ("▲ 1/2 ready", "applied, and the reported status is not healthy"),
            ("○ applied", "applied; no status reported back"),
            ("… delivered", "a ManifestWork is there; the work agent has not reported"),
            ("✖ no work", "bound to the cluster, but no ManifestWork carries it"),
            ("✖ apply failed", "the work agent could not apply it (why below)"),
            ("✓ placed / ! ✖ N drift", "nothing wrong / drift that warns / drift that takes workloads away"),
            ("! N orphaned", "a deleted policy whose ManifestWorks remain: nothing upstream deletes them"),
            (
                "◆ object · collector:",
                "its CombinedStatus: the StatusCollector's columns over the WECs (! an error it recorded)",
            ),
            ("▶cluster", "the cluster Enter opens (h/l move it)"),
            (
                "! N overlaps",
                "by object: clusters it is sent to by several policies (a ManifestWork and a WorkStatus each)",
            ),
            ("✖ N not arrived", "by object: clusters where a policy's work is missing or failed"),
        ]
    }

    fn hints(&self) -> Vec<Hint> {
        if self.by_object {
            return vec![Hint::action(Action::Layout, "by policy: the policies, their matrix and drift")];
        }
        vec![
            Hint::action(Action::Explain, "why each cluster is or is not selected"),
            Hint::action(Action::Select, "the policy's deployments on the marked cluster (h/l move the mark)"),
            Hint::action(Action::WhatIf, "what if it selected other clusters (nothing is written)"),
            Hint::action(Action::Move, "move its workloads from the marked cluster to another (guarded)").writes(),
            Hint::action(Action::PageDown, "page through the matrix / explanation (PgUp, Ctrl-d, Ctrl-u too)"),
            Hint::action(
                Action::Layout,
                "by object / by policy: every policy and cluster of one object, overlaps flagged",
            ),
        ]
    }

    fn on_key(&mut self, _key: KeyEvent, action: Option<Action>, cx: &Ctx) -> Outcome {
        if action == Some(Action::Layout) {
            self.by_object = !self.by_object;
            return Outcome::Redraw;
        }
        if self.by_object {
            let list = object_rows(cx);
            return super::motion(&mut self.objects, action, &object_keys(&list)).unwrap_or(Outcome::Ignored);
        }
        let list = rows(cx);
        let keys = keys(&list);
        if pages(action) {
            self.list.sync(&keys);
            let Some(v) = self.list.selected().and_then(|i| list.get(i)) else { return Outcome::Handled };
            if self.explain {
                let step: u16 = if matches!(action, Some(Action::PageDown | Action::PageUp)) { 20 } else { 10 };
                self.explain_scroll = match action {
                    Some(Action::PageDown | Action::HalfPageDown) => self.explain_scroll.saturating_add(step),
                    _ => self.explain_scroll.saturating_sub(step),
                };
            } else if let Some(a) = action {
                let rows: Vec<String> = v.objects.iter().map(|o| o.text()).collect();
                self.matrix.on_action(a, &rows);
            }
            return Outcome::Redraw;
        }
        if let Some(o) = super::motion(&mut self.list, action, &keys) {
            return o;
        }
        self.list.sync(&keys);
        let selected = self.list.selected().and_then(|i| list.get(i));
        match action {
            Some(Action::Explain) => {
                self.explain = !self.explain;
                Outcome::Redraw
            }
            Some(Action::Left) => {
                self.col = self.col.saturating_sub(1);
                Outcome::Redraw
            }
            Some(Action::Right) => {
                self.col = (self.col + 1).min(selected.map(|v| v.clusters.len().saturating_sub(1)).unwrap_or(0));
                Outcome::Redraw
            }
            Some(Action::Select) => match selected {
                Some(v) => open_on_cluster(cx, v, self.col),
                None => Outcome::Handled,
            },
            // a wall screen takes no typed input
            Some(Action::WhatIf) if cx.mode == crate::ui::Mode::Kiosk => Outcome::Handled,
            Some(Action::WhatIf) => match selected {
                Some(v) if !v.gone => Outcome::Push(Box::new(crate::ui::views::WhatIfView::new(
                    &v.wds,
                    &v.policy.name,
                    &v.policy.cluster_selectors,
                ))),
                Some(v) => Outcome::Flash(format!("{} is deleted: nothing to edit", v.policy.name)),
                None => Outcome::Handled,
            },
            Some(Action::Move) if cx.mode == crate::ui::Mode::Kiosk => Outcome::Handled,
            Some(Action::Move) => match selected {
                Some(v) if v.gone => Outcome::Flash(format!("{} is deleted: nothing to move", v.policy.name)),
                Some(v) => match v.clusters.get(self.col.min(v.clusters.len().saturating_sub(1))) {
                    Some(from) => {
                        Outcome::Push(Box::new(crate::ui::views::MoveView::new(&v.wds, &v.policy.name, from)))
                    }
                    None => Outcome::Flash(format!("{} places nothing: nothing to move", v.policy.name)),
                },
                None => Outcome::Handled,
            },
            Some(Action::Back) if self.explain => {
                self.explain = false;
                Outcome::Redraw
            }
            _ => Outcome::Ignored,
        }
    }

    fn copy_text(&mut self, cx: &Ctx) -> Option<String> {
        let list = rows(cx);
        self.list.sync(&keys(&list));
        list.get(self.list.selected()?).map(|v| v.policy.name.clone())
    }

    fn click(&mut self, row: u16) -> bool {
        self.list.click(row)
    }

    fn draw(&mut self, f: &mut Frame, area: Rect, cx: &Ctx) {
        let t = cx.theme;
        let list = rows(cx);
        if !cx.fleet.clusters.iter().any(|c| c.placement.is_wds()) {
            let msg = "No KubeStellar WDS among the contexts: none serves control.kubestellar.io/v1alpha1 BindingPolicies. \
                       Add the WDS and ITS contexts (kflex ctx wds1, its1) to the kubeconfig; `kst sim --kubestellar` simulates them.";
            f.render_widget(Paragraph::new(Span::styled(msg, t.muted)).wrap(Wrap { trim: true }), area);
            return;
        }
        if self.by_object {
            return draw_objects(f, area, cx, &mut self.objects);
        }
        let wanted = (list.len() as u16 + 3).min(area.height / 3).max(5);
        let [table_area, detail_area] = Layout::vertical([Constraint::Length(wanted), Constraint::Min(6)]).areas(area);
        let several_wds = list.iter().map(|v| &v.wds).collect::<std::collections::BTreeSet<_>>().len() > 1;
        let cols = vec![
            Col::name("POLICY").min(12),
            Col::name("WDS").hidden_if(!several_wds),
            Col::whole("STATE"),
            Col::text("CLUSTERS").min(12),
            Col::whole("OBJECTS"),
            Col::text("SELECTORS").min(12).optional(1),
        ];
        let mut table = DataTable::new(format!(" BindingPolicies ({}) · e: explain ", list.len()), cols);
        table.empty = "no BindingPolicy matches the filter".into();
        for v in &list {
            let (st, style) = state(cx, v);
            table.rows.push(vec![
                cell(v.policy.name.clone(), t.text),
                cell(v.wds.clone(), t.muted),
                cell(st, style),
                cell(if v.clusters.is_empty() { "none".to_string() } else { v.clusters.join(", ") }, t.text),
                cell(v.objects.len().to_string(), t.text),
                cell(
                    if v.gone { "— (policy deleted)".to_string() } else { placement::selectors_text(&v.policy) },
                    t.muted,
                ),
            ]);
        }
        self.list.sync(&keys(&list));
        table.draw(f, table_area, &mut self.list, t);
        let Some(v) = self.list.selected().and_then(|i| list.get(i)) else { return };
        let key = format!("{}/{}", v.wds, v.policy.name);
        if self.detail_of.as_ref() != Some(&key) {
            self.detail_of = Some(key);
            self.matrix.reset();
            self.explain_scroll = 0;
        }
        if self.explain {
            draw_explain(f, detail_area, cx, v, &mut self.explain_scroll, false);
        } else {
            draw_matrix(f, detail_area, cx, v, self.col, &mut self.matrix);
        }
    }
}

/// One row per bound object (`v`): its policies, its clusters, overlaps (one object sent to
/// one cluster by several policies) and clusters where it did not arrive; below, the
/// selected object cluster by cluster, with what each policy's work brought.
fn draw_objects(f: &mut Frame, area: Rect, cx: &Ctx, list: &mut ListState) {
    let t = cx.theme;
    let objects = object_rows(cx);
    let wanted = (objects.len() as u16 + 3).min(area.height / 2).max(5);
    let [table_area, detail_area] = Layout::vertical([Constraint::Length(wanted), Constraint::Min(6)]).areas(area);
    let several_wds = objects.iter().map(|o| &o.wds).collect::<std::collections::BTreeSet<_>>().len() > 1;
    let cols = vec![
        Col::name("OBJECT").min(16),
        Col::name("WDS").hidden_if(!several_wds),
        Col::whole("STATE"),
        Col::text("POLICIES").min(12),
        Col::text("CLUSTERS").min(12).optional(1),
    ];
    let overlapping = objects.iter().filter(|o| o.overlaps() > 0).count();
    let mut table = DataTable::new(
        format!(
            " Objects placed ({}; {overlapping} sent to a cluster by several policies) · v: by policy ",
            objects.len()
        ),
        cols,
    );
    table.empty = "no bound object matches the filter".into();
    for o in &objects {
        let (st, style) = match (o.bad(), o.overlaps()) {
            (0, 0) => ("✓ placed".to_string(), t.ok),
            (0, n) => (format!("! {n} overlap{}", if n == 1 { "" } else { "s" }), t.warn),
            (n, _) => (format!("✖ {n} not arrived"), t.crit),
        };
        let clusters: Vec<&str> = o.clusters.iter().map(|c| c.cluster.as_str()).collect();
        table.rows.push(vec![
            cell(o.object.text(), t.text),
            cell(o.wds.clone(), t.muted),
            cell(st, style),
            cell(o.policies.join(", "), t.text),
            cell(clusters.join(", "), t.muted),
        ]);
    }
    list.sync(&object_keys(&objects));
    table.draw(f, table_area, list, t);
    let Some(o) = list.selected().and_then(|i| objects.get(i)) else { return };
    let mut lines: Vec<Line> = Vec::new();
    for on in &o.clusters {
        let mut spans = vec![Span::styled(format!("{:<16} ", on.cluster), t.text)];
        for (i, (policy, c)) in on.by.iter().enumerate() {
            if i > 0 {
                spans.push(Span::styled(" · ", t.muted));
            }
            spans.push(Span::styled(c.short(), cell_style(cx, c)));
            spans.push(Span::styled(format!(" by {policy}"), t.muted));
        }
        lines.push(Line::from(spans));
        if on.overlap() {
            lines.push(Line::from(Span::styled(
                format!(
                    "  ! {} policies send it here: {} ManifestWorks apply it in turn and {} WorkStatuses report it, so a singleton status is not returned",
                    on.by.len(),
                    on.by.len(),
                    on.by.len()
                ),
                t.warn,
            )));
        }
    }
    if o.clusters.is_empty() {
        lines.push(Line::from(Span::styled("bound, but no policy that binds it selects a cluster", t.muted)));
    }
    f.render_widget(
        Paragraph::new(lines).wrap(Wrap { trim: true }).block(
            Block::default()
                .borders(Borders::ALL)
                .title(format!(" {} · by cluster ", o.object.text()))
                .border_style(t.muted),
        ),
        detail_area,
    );
}

/// Enter: the policy's deployments on the marked cluster, when that cluster is one of kst's
/// contexts (a WEC kst reads directly); Enter on one there opens its pods.
fn open_on_cluster(cx: &Ctx, v: &PolicyView, col: usize) -> Outcome {
    let Some(wec) = v.clusters.get(col.min(v.clusters.len().saturating_sub(1))) else {
        return Outcome::Flash(format!("{} selects no cluster", v.policy.name));
    };
    let Some(ci) = cx.fleet.clusters.iter().position(|c| c.context == *wec) else {
        return Outcome::Flash(format!(
            "{wec} is not one of kst's contexts: its objects can only be read through the ITS"
        ));
    };
    if !cx.feeds.available() {
        return Outcome::Flash("drill-down is not available here".into());
    }
    let namespaces: std::collections::BTreeSet<&str> = v.objects.iter().map(|o| o.namespace.as_str()).collect();
    let ns = if namespaces.len() == 1 { namespaces.iter().next().copied().unwrap_or("") } else { "" };
    let crumb = if ns.is_empty() {
        format!("deployments on {wec} (placed by {})", v.policy.name)
    } else {
        format!("deployments in {ns} on {wec} (placed by {})", v.policy.name)
    };
    let view =
        crate::ui::views::ObjectsView::open(cx.feeds, crate::store::views::ObjectKind::Deployments, &[ci], ns, crumb);
    Outcome::Push(Box::new(view))
}

fn cell_style(cx: &Ctx, c: &Cell) -> ratatui::style::Style {
    let t = cx.theme;
    match c {
        Cell::NotDelivered | Cell::ApplyFailed { .. } => t.crit,
        Cell::Reported { healthy: Some(false), .. } => t.warn,
        Cell::Reported { .. } => t.ok,
        Cell::Applied => t.text,
        Cell::Delivered => t.muted,
    }
}

/// Objects x clusters, then the drift, one line each.
fn draw_matrix(f: &mut Frame, area: Rect, cx: &Ctx, v: &PolicyView, col: usize, state: &mut ListState) {
    let t = cx.theme;
    // the matrix as tall as its rows, the drift below it takes the rest
    let matrix_h = (v.objects.len() as u16 + 3).max(4).min(area.height.saturating_sub(3));
    let [matrix_area, drift_area] = Layout::vertical([Constraint::Length(matrix_h), Constraint::Min(3)]).areas(area);
    let mut cols = vec![Col::name("OBJECT").min(16)];
    let marked = col.min(v.clusters.len().saturating_sub(1));
    cols.extend(
        v.clusters
            .iter()
            .enumerate()
            .map(|(i, c)| Col::name(&if i == marked { format!("▶{c}") } else { c.clone() }).min(8)),
    );
    // more rows than fit: say how to reach them
    let pages = if v.objects.len() + 3 > matrix_h as usize { "· PgDn/PgUp " } else { "" };
    let title = if v.gone {
        format!(" {} · deleted; its ManifestWorks remain (below) ", v.policy.name)
    } else if v.its_known {
        format!(" {} · objects x clusters {pages}", v.policy.name)
    } else {
        format!(" {} · no ITS among the contexts: bound only, delivery unknown {pages}", v.policy.name)
    };
    let mut table = DataTable::new(title, cols);
    table.empty = if v.gone {
        "no such policy any more".into()
    } else if v.clusters.is_empty() {
        "selects no cluster".into()
    } else {
        "binds no object".into()
    };
    for (o, row) in v.objects.iter().zip(&v.cells) {
        let mut line = vec![cell(o.text(), t.text)];
        for c in row {
            line.push(cell(if v.its_known { c.short() } else { "bound".into() }, cell_style(cx, c)));
        }
        table.rows.push(line);
    }
    state.sync(&v.objects.iter().map(|o| o.text()).collect::<Vec<_>>());
    table.draw(f, matrix_area, state, t);
    let mut lines: Vec<Line> = if v.drift.is_empty() {
        vec![Line::from(Span::styled("no drift: every bound object was delivered and applied", t.ok))]
    } else {
        v.drift
            .iter()
            .map(|d| {
                let style = if d.severe() { t.crit } else { t.warn };
                Line::from(vec![
                    Span::styled(if d.severe() { "✖ " } else { "! " }, style),
                    Span::styled(d.text(), t.text),
                ])
            })
            .collect()
    };
    // not drift, but why a change made in the WDS never shows on a WEC
    if !v.create_only.is_empty() {
        let names: Vec<String> = v
            .objects
            .iter()
            .filter(|o| v.create_only.contains(*o))
            .map(|o| format!("{}/{}", o.namespace, o.name))
            .collect();
        lines.push(Line::from(Span::styled(
            format!(
                "· createOnly: {} created where absent, never updated from the WDS",
                if names.len() > 3 { format!("{} objects", names.len()) } else { names.join(", ") }
            ),
            t.muted,
        )));
    }
    let combined = combined_lines(cx, v);
    let title = if combined.is_empty() { " drift " } else { " drift · combined status (StatusCollectors) " };
    lines.extend(combined);
    // the rows the drift leaves (a big screen) say why each cluster is or is not selected, as
    // `e` does (the lines counted as wrapped at this width)
    let inner = drift_area.width.saturating_sub(2).max(1) as usize;
    let need: usize = lines.iter().map(|l| l.width().max(1).div_ceil(inner)).sum();
    let (drift_area, explain_area) = split_below(drift_area, need as u16 + 2, EXPLAIN_MIN);
    f.render_widget(
        Paragraph::new(lines)
            .wrap(Wrap { trim: true })
            .block(Block::default().borders(Borders::ALL).title(title).border_style(t.muted)),
        drift_area,
    );
    if let Some(at) = explain_area {
        draw_explain(f, at, cx, v, &mut 0, true);
    }
}

/// The rows the explanation wants before it is drawn under the drift.
const EXPLAIN_MIN: u16 = 6;

/// The policy's CombinedStatuses, as KubeStellar's status controller wrote them in the WDS: per
/// object, each StatusCollector's table and the errors it recorded; and a collector the policy
/// names whose spec the controller refused.
fn combined_lines(cx: &Ctx, v: &PolicyView) -> Vec<Line<'static>> {
    let t = cx.theme;
    let Some(wds) = cx.fleet.clusters.iter().find(|c| c.context == v.wds) else { return Vec::new() };
    let p = &wds.placement;
    let mut lines = Vec::new();
    let named: std::collections::BTreeSet<&String> =
        v.policy.clauses.iter().flat_map(|c| &c.status_collectors).collect();
    for c in p.collectors.iter().flatten().filter(|c| named.contains(&c.name) && !c.errors.is_empty()) {
        lines.push(Line::from(vec![
            Span::styled("! ", t.warn),
            Span::styled(
                format!("StatusCollector {} is invalid, so not used: {}", c.name, c.errors.join("; ")),
                t.text,
            ),
        ]));
    }
    for cs in p.combined.iter().flatten().filter(|cs| cs.policy == v.policy.name) {
        let object = format!("{}/{}", cs.object.namespace, cs.object.name);
        if cs.results.is_empty() {
            lines.push(Line::from(Span::styled(format!("◆ {object}: no collector it names exists"), t.muted)));
        }
        for r in &cs.results {
            lines.push(Line::from(vec![
                Span::styled(format!("◆ {object} · {}: ", r.collector), t.muted),
                Span::styled(r.text(), t.text),
            ]));
            for e in &r.errors {
                lines.push(Line::from(vec![Span::styled("  ! ", t.warn), Span::styled(e.clone(), t.muted)]));
            }
        }
    }
    lines
}

/// Each ManagedCluster of the ITS against the policy's selectors, term by term.
/// Why the policy selects each cluster and binds each object; `under` the matrix (a big
/// screen's spare rows) rather than opened by `e`.
fn draw_explain(f: &mut Frame, area: Rect, cx: &Ctx, v: &PolicyView, scroll: &mut u16, under: bool) {
    let t = cx.theme;
    let managed: Vec<&placement::ManagedCluster> =
        cx.fleet.clusters.iter().filter_map(|c| c.placement.managed.as_ref()).flatten().collect();
    let mut lines = vec![Line::from(Span::styled(
        format!(
            "clusterSelectors (any one selects; every term of it must hold): {}",
            placement::selectors_text(&v.policy)
        ),
        t.muted,
    ))];
    if managed.is_empty() {
        lines.push(Line::from(Span::styled("no ITS among the contexts: no ManagedCluster to explain", t.warn)));
    }
    for m in managed {
        let (selected, terms) = placement::explain_cluster(&v.policy, &m.labels);
        let mut spans = vec![
            Span::styled(if selected { "✓ " } else { "✗ " }, if selected { t.ok } else { t.muted }),
            Span::styled(format!("{:<20} ", m.name), t.text),
        ];
        for (i, sel) in terms.iter().enumerate() {
            if i > 0 {
                spans.push(Span::styled(" | ", t.muted));
            }
            for (term, ok) in sel {
                spans.push(Span::styled(
                    format!("{term} {} ", if *ok { "✓" } else { "✗" }),
                    if *ok { t.ok } else { t.crit },
                ));
            }
        }
        if m.available != Some(true) {
            spans.push(Span::styled(" · not Available (selected anyway)", t.warn));
        }
        lines.push(Line::from(spans));
    }
    // under the matrix the object side is left to `e`: it tests every object of the clauses'
    // namespaces, on every frame (2,000 objects tripled a frame's cost)
    if under {
        lines.push(Line::from(Span::styled("downsync: e tests each WDS object against each clause", t.muted)));
    } else {
        // the object side: each WDS object in the clauses' namespaces, bound or why not
        let objects = cx.fleet.clusters.iter().find(|c| c.context == v.wds).and_then(|c| c.placement.objects.as_ref());
        lines.push(Line::from(Span::styled(
            "downsync (an object is bound when every test of one clause holds):",
            t.muted,
        )));
        match objects {
            None => lines.push(Line::from(Span::styled(
                format!("{}'s workload objects are not read (kst reads deployments, statefulsets, services)", v.wds),
                t.muted,
            ))),
            Some(objects) => {
                let namespaces: Vec<&str> =
                    v.policy.clauses.iter().flat_map(|c| c.namespaces.iter().map(String::as_str)).collect();
                let any_ns = v.policy.clauses.iter().any(|c| c.namespaces.is_empty());
                // (selected, the object, per destination its per-cell marks)
                type Shown<'o> = (bool, &'o placement::WdsObject, Vec<Vec<(String, bool)>>);
                let mut shown: Vec<Shown> = objects
                    .iter()
                    .filter(|o| any_ns || namespaces.contains(&o.namespace.as_str()))
                    .map(|o| {
                        let (bound, tests) = placement::explain_object(&v.policy, o);
                        (bound, o, tests)
                    })
                    .collect();
                // bound first, then the near misses (fewest failing tests)
                shown.sort_by_key(|(bound, o, tests)| {
                    let misses = tests.iter().map(|t| t.iter().filter(|(_, ok)| !ok).count()).min().unwrap_or(0);
                    (!bound, misses, o.namespace.clone(), o.name.clone())
                });
                let total = shown.len();
                for (bound, o, tests) in shown.into_iter().take(EXPLAINED_OBJECTS) {
                    let mut spans = vec![
                        Span::styled(if bound { "✓ " } else { "✗ " }, if bound { t.ok } else { t.muted }),
                        Span::styled(format!("{}/{} {}/{} ", o.group, o.resource, o.namespace, o.name), t.text),
                    ];
                    for (i, clause) in tests.iter().enumerate() {
                        if i > 0 {
                            spans.push(Span::styled(" | ", t.muted));
                        }
                        for (test, ok) in clause {
                            spans.push(Span::styled(
                                format!("{test} {} ", if *ok { "✓" } else { "✗" }),
                                if *ok { t.ok } else { t.crit },
                            ));
                        }
                    }
                    lines.push(Line::from(spans));
                }
                if total > EXPLAINED_OBJECTS {
                    lines.push(Line::from(Span::styled(
                        format!("… and {} more objects (the filter finds one)", total - EXPLAINED_OBJECTS),
                        t.muted,
                    )));
                }
                if total == 0 {
                    lines.push(Line::from(Span::styled("no workload object in the clauses' namespaces", t.warn)));
                }
            }
        }
    }
    // scrolled no further than its last line at the top (wrapping only adds lines below)
    *scroll = (*scroll).min(lines.len().saturating_sub(1) as u16);
    // under the matrix it takes no keys (e opens it to scroll); opened by e, e closes it
    let keys = match (under, lines.len() + 2 > area.height as usize) {
        (true, true) => "· e: all of it ",
        (true, false) => "",
        (false, true) => "· PgDn/PgUp · e: back to the matrix ",
        (false, false) => "· e: back to the matrix ",
    };
    f.render_widget(
        Paragraph::new(lines).wrap(Wrap { trim: true }).scroll((*scroll, 0)).block(
            Block::default()
                .borders(Borders::ALL)
                .title(format!(" why {} selects what it does {keys}", v.policy.name))
                .border_style(t.muted),
        ),
        area,
    );
}

/// Objects the explanation goes through one by one (bound first, then the near misses);
/// the rest are counted.
const EXPLAINED_OBJECTS: usize = 200;
