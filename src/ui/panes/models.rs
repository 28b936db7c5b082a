//! Models: each served model once, with its fleet totals and a line per cluster serving it
//! (its pools there added up), the weakest cluster marked, and the headroom of each line: the
//! load factor its replicas take before an llm-d rule fires. Enter on a cluster line goes to its
//! pools in Serving.

use crossterm::event::KeyEvent;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};
use ratatui::Frame;

use crate::store::llmd::ServerInfo;
use crate::store::models::{ImportState, ModelLine, ModelView};
use crate::store::pane::PaneId;
use crate::ui::component::{Component, Ctx, Group, Hint, Outcome, Pane};
use crate::ui::keymap::Action;
use crate::ui::widgets::fmt;
use crate::ui::widgets::state::DASH;
use crate::ui::widgets::table::{cell, split_below, Col, DataTable, ListState};

#[derive(Default)]
pub struct Models {
    list: ListState,
}

/// A row: a model's totals, or one of its cluster lines.
enum Row<'a> {
    Model(&'a ModelView),
    Line(&'a ModelView, &'a ModelLine),
}

pub fn views(cx: &Ctx) -> Vec<ModelView> {
    crate::store::models::views(cx.fleet, &cx.reading())
        .into_iter()
        .filter(|m| {
            cx.keep(|| {
                format!("{} {}", m.model, m.lines.iter().map(|l| l.context.as_str()).collect::<Vec<_>>().join(" "))
            })
        })
        .map(|mut m| {
            // a focus shows that cluster's lines only
            if let Some(f) = cx.focus {
                m.lines.retain(|l| l.cluster == Some(f));
            }
            m
        })
        .filter(|m| !m.lines.is_empty())
        .collect()
}

fn rows(views: &[ModelView]) -> Vec<Row<'_>> {
    let mut out = Vec::new();
    for m in views {
        out.push(Row::Model(m));
        out.extend(m.lines.iter().map(|l| Row::Line(m, l)));
    }
    out
}

/// Exports and imports of a line in a few characters; Some(ok) colours it.
fn across(l: &ModelLine) -> (String, Option<bool>) {
    let mut parts = Vec::new();
    let mut ok = None;
    if !l.exported.is_empty() {
        parts.push("⇡ exported".to_string());
    }
    for imp in &l.imports {
        let (mark, good) = match imp.state {
            ImportState::Serving => ("✔", Some(true)),
            ImportState::Broken(_) => ("✖", Some(false)),
            ImportState::Unknown(_) => ("?", None),
        };
        parts.push(format!("⇣ {} {mark}", imp.exporters.join(",")));
        ok = match (ok, good) {
            (Some(false), _) | (_, Some(false)) => Some(false),
            (_, g) => g.or(ok),
        };
    }
    if parts.is_empty() {
        (String::new(), None)
    } else {
        (parts.join(" "), ok)
    }
}

fn keys(rows: &[Row]) -> Vec<String> {
    rows.iter()
        .map(|r| match r {
            Row::Model(m) => m.model.clone(),
            Row::Line(m, l) => line_key(&m.model, &l.context),
        })
        .collect()
}

impl Pane for Models {
    fn id(&self) -> PaneId {
        PaneId::Models
    }
    fn title(&self) -> &'static str {
        "Models"
    }
    fn short_title(&self) -> &'static str {
        "Models"
    }
    fn group(&self) -> Group {
        Group::Fleet
    }
    fn aliases(&self) -> &'static [&'static str] {
        &["model"]
    }
    fn has_data(&self, fleet: &crate::store::Fleet) -> bool {
        super::any_llmd(fleet)
    }
    /// A model on a cluster: that line.
    fn reveal(&mut self, _context: &str, find: &crate::store::problems::Find) -> bool {
        let crate::store::problems::Find::Cell { row: model, column: context } = find else { return false };
        self.list.reveal("", &line_key(model, context));
        true
    }
}

impl Component for Models {
    fn legend(&self) -> Vec<(&'static str, &'static str)> {
        vec![
            ("└ cluster", "the model on one cluster: its pools there added up"),
            ("◂ weakest", "the cluster with the fewest ready decode servers (then the fullest KV)"),
            (
                "HEADROOM ×1.4",
                "the load its replicas take before an llm-d rule fires (KV to 90%, 50 waiting), if load grows evenly",
            ),
            ("KV 76/88%", "mean / fullest server's KV cache"),
            ("TOK/S P/D 15k/3.8k", "prefill / decode tokens per second over the rate window"),
            ("decode*", "a server with no llm-d.ai/role label: it serves decode, as the router assumes"),
            ("DECODE 1/2 ⧖", "ready / all; ⧖ a server the scheduler cannot place (why below)"),
            ("POOLS ⇡ exported", "a pool here exported to the ClusterSet (other clusters may import it)"),
            ("⇣ gpu-a ✔ / ✖ / ?", "a pool imported from gpu-a: its exporter serves / cannot serve / kst cannot see it"),
            (
                "room: (below)",
                "for a line short of capacity: free GPUs here and elsewhere, and whether its BindingPolicy selects each cluster",
            ),
        ]
    }

    fn hints(&self) -> Vec<Hint> {
        vec![Hint::action(Action::Select, "a cluster line: its pools in Serving, filtered to the model")]
    }

    fn on_key(&mut self, _key: KeyEvent, action: Option<Action>, cx: &Ctx) -> Outcome {
        let v = views(cx);
        let r = rows(&v);
        let k = keys(&r);
        if let Some(o) = super::motion(&mut self.list, action, &k) {
            return o;
        }
        match action {
            Some(Action::Select) => {
                self.list.sync(&k);
                match self.list.selected().and_then(|i| r.get(i)) {
                    Some(Row::Line(m, l)) => {
                        let filter = Some(crate::store::llmd::model_label(&m.model));
                        match (l.pools.first(), l.imports.first()) {
                            (Some(pool), _) => Outcome::Goto {
                                pane: PaneId::Serving,
                                context: l.context.clone(),
                                find: pool.clone().into(),
                                filter,
                            },
                            // served here only through an import: the exporter's pool
                            (None, Some(imp)) => match imp.exporters.first() {
                                Some(e) => Outcome::Goto {
                                    pane: PaneId::Serving,
                                    context: e.clone(),
                                    find: imp.pool.clone().into(),
                                    filter,
                                },
                                None => Outcome::Flash(format!("{} names no exporting cluster", imp.pool)),
                            },
                            (None, None) => Outcome::Handled,
                        }
                    }
                    Some(Row::Model(_)) => Outcome::Flash("Enter on a cluster line (└) goes to its pools".into()),
                    None => Outcome::Handled,
                }
            }
            _ => Outcome::Ignored,
        }
    }

    fn copy_text(&mut self, cx: &Ctx) -> Option<String> {
        let v = views(cx);
        let r = rows(&v);
        self.list.sync(&keys(&r));
        r.get(self.list.selected()?).map(|r| match r {
            Row::Model(m) | Row::Line(m, _) => m.model.clone(),
        })
    }

    fn click(&mut self, row: u16) -> bool {
        self.list.click(row)
    }

    fn draw(&mut self, f: &mut Frame, area: Rect, cx: &Ctx) {
        let t = cx.theme;
        let v = views(cx);
        let r = rows(&v);
        let [list_area, note_area] = Layout::vertical([Constraint::Min(4), Constraint::Length(3)]).areas(area);
        // the rows a short list leaves (a big screen) list the selected model's servers
        let need = (r.len() as u16 + 3).max(6);
        let (table_area, servers_area) = split_below(list_area, need, SERVERS_MIN);
        let cols = vec![
            Col::name("MODEL / CLUSTER").min(16),
            Col::whole("POOLS").optional(4),
            Col::whole("PREFILL"),
            Col::whole("DECODE"),
            Col::whole("REQ/S"),
            Col::whole("TOK/S P/D").optional(3),
            Col::whole("TTFT p99"),
            Col::whole("ITL p99").optional(2),
            Col::whole("KV avg/max"),
            Col::whole("QUEUE").optional(5),
            Col::whole("ERR"),
            Col::whole("GPUS").optional(1),
            Col::text("HEADROOM").min(6),
            Col::text("ACROSS").optional(6),
        ];
        let mut table = DataTable::new(
            format!(
                " Models ({}) · rates over {} · Enter on a cluster line: its pools ",
                v.len(),
                cx.fleet.metrics.window_text()
            ),
            cols,
        );
        table.empty = "no model is served on the visible clusters (no InferencePool with model servers)".into();
        let pair = |a: usize, b: usize| if b == 0 { DASH.to_string() } else { format!("{a}/{b}") };
        for row in &r {
            let (m, l, head) = match row {
                Row::Model(m) => (*m, &m.totals, true),
                Row::Line(m, l) => (*m, *l, false),
            };
            let name = if head {
                m.model.clone()
            } else {
                let weak = m.weakest.as_deref() == Some(l.context.as_str());
                format!("  └ {}{}", cx.display_name(&l.context), if weak { " ◂ weakest" } else { "" })
            };
            let decode_style = if l.decode_total > 0 && l.decode_ready == 0 {
                t.crit
            } else if l.decode_ready < l.decode_total {
                t.warn
            } else {
                t.text
            };
            let kv = match (l.kv_avg, l.kv_max) {
                (Some(a), Some(x)) => format!("{:.0}/{:.0}%", a * 100.0, x * 100.0),
                _ => DASH.into(),
            };
            let head_text = l
                .headroom
                .as_ref()
                .map(|h| {
                    // two digits below ×2, where ×0.95 and ×1.0 mean different things
                    let f = if h.factor < 2.0 { format!("×{:.2}", h.factor) } else { format!("×{:.1}", h.factor) };
                    if head {
                        f
                    } else {
                        format!("{f} ({})", h.reason)
                    }
                })
                .unwrap_or_else(|| DASH.into());
            let head_style = match &l.headroom {
                Some(h) if h.factor < 1.0 => t.crit,
                Some(h) if h.factor < 1.2 => t.warn,
                Some(_) => t.ok,
                None => t.muted,
            };
            let (across, across_style) = across(l);
            let across_style = match across_style {
                Some(true) => t.ok,
                Some(false) => t.crit,
                None => t.muted,
            };
            let base = if head { t.accent } else { t.text };
            table.rows.push(vec![
                cell(name, base),
                cell(l.pools.len().to_string(), t.text),
                cell(pair(l.prefill_ready, l.prefill_total), t.text),
                cell(
                    format!("{}{}", pair(l.decode_ready, l.decode_total), if l.unschedulable > 0 { " ⧖" } else { "" }),
                    decode_style,
                ),
                cell(fmt::opt(l.request_rate, fmt::num), t.text),
                cell(fmt::pair_num(l.prefill_tokens_per_s, l.decode_tokens_per_s), t.text),
                cell(fmt::opt(l.ttft_p99_s, fmt::secs), t.text),
                cell(fmt::opt(l.itl_p99_s, fmt::secs), t.text),
                cell(kv, crate::ui::rules::kv_style(t, &crate::store::llmd::Role::Decode, l.kv_max)),
                cell(fmt::opt(l.queue, fmt::count), t.text),
                cell(fmt::opt(l.error_rate, fmt::pct), t.text),
                cell(if l.gpus == 0 { DASH.to_string() } else { l.gpus.to_string() }, t.text),
                cell(head_text, head_style),
                cell(across, across_style),
            ]);
        }
        self.list.sync(&keys(&r));
        table.draw(f, table_area, &mut self.list, t);
        // the selected line whole: its pools and GPU products
        if let Some(row) = self.list.selected().and_then(|i| r.get(i)) {
            if let Some(area) = servers_area {
                draw_model_servers(f, area, cx, row);
            }
            f.render_widget(Paragraph::new(selected_note(row, cx)).wrap(Wrap { trim: true }), note_area);
        }
    }
}

/// A model's line on one cluster, as its row is keyed.
fn line_key(model: &str, context: &str) -> String {
    format!("{model}\t{context}")
}

/// The rows the selected model's servers want before they are listed under the models.
const SERVERS_MIN: u16 = 6;

/// The model servers behind the selected line: every cluster's on a model's line, that cluster's
/// on a cluster's line (the pools' members, as the Serving pane lists them for one pool).
fn draw_model_servers(f: &mut Frame, area: Rect, cx: &Ctx, row: &Row<'_>) {
    let (m, lines): (&ModelView, Vec<&ModelLine>) = match row {
        Row::Model(m) => (*m, m.lines.iter().collect()),
        Row::Line(m, l) => (*m, vec![*l]),
    };
    let servers: Vec<(usize, &ServerInfo)> = lines
        .iter()
        .filter_map(|l| Some((l.cluster?, *l)))
        .flat_map(|(i, l)| {
            cx.cluster(i)
                .llmd
                .servers
                .iter()
                .filter(move |s| s.pool.as_ref().is_some_and(|p| l.pools.contains(&format!("{}/{p}", s.namespace))))
                .map(move |s| (i, s))
        })
        .collect();
    let on = match row {
        Row::Model(_) => format!("{} cluster(s)", lines.len()),
        Row::Line(_, l) => cx.display_name(&l.context).to_string(),
    };
    let title = format!(" Model servers of {} on {on} ({}) ", m.model, servers.len());
    super::serving::draw_servers(f, area, cx, title, &servers, true);
}

/// The selected line whole: its pools, GPU products, headroom, what cannot be scheduled, where
/// it is exported and imported, and (on a cluster's line) where there is room for more.
fn selected_note(row: &Row<'_>, cx: &Ctx) -> Line<'static> {
    let t = cx.theme;
    let (m, l) = match row {
        Row::Model(m) => (*m, &m.totals),
        Row::Line(m, l) => (*m, *l),
    };
    let mut spans = vec![
        Span::styled(format!("{} on {}: ", m.model, l.context), t.accent),
        Span::styled(format!("pools {}", l.pools.join(", ")), t.text),
    ];
    if !l.gpu_products.is_empty() {
        spans.push(Span::styled(format!(" · {} GPUs ({})", l.gpus, l.gpu_products.join(", ")), t.muted));
    }
    if let Some(h) = &l.headroom {
        spans.push(Span::styled(format!(" · headroom ×{:.2}: {}", h.factor, h.reason), t.muted));
    }
    if l.unschedulable > 0 {
        spans.push(Span::styled(
            format!(
                " · {} unschedulable: {}",
                l.unschedulable,
                l.unschedulable_reason.as_deref().unwrap_or("no node fits")
            ),
            t.warn,
        ));
    }
    if !l.exported.is_empty() {
        spans.push(Span::styled(format!(" · exported: {}", l.exported.join(", ")), t.muted));
    }
    if let Row::Line(..) = row {
        for room in crate::store::models::room(cx.fleet, l).iter().take(3) {
            spans.push(Span::styled(
                format!(
                    " · room: {} {} free {} (at most {} on one node): {}",
                    room.context, room.free, room.product, room.free_on_one_node, room.why
                ),
                if room.same_product && room.selected != Some(false) { t.ok } else { t.muted },
            ));
        }
    }
    for imp in &l.imports {
        let (text, style) = match &imp.state {
            ImportState::Serving => ("serving".to_string(), t.ok),
            ImportState::Broken(why) => (format!("cannot serve: {why}"), t.crit),
            ImportState::Unknown(why) => (format!("unchecked: {why}"), t.muted),
        };
        spans.push(Span::styled(format!(" · imports {} from {}: ", imp.pool, imp.exporters.join(", ")), t.muted));
        spans.push(Span::styled(text, style));
    }
    Line::from(spans)
}
