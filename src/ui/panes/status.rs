//! Kagenti status: per cluster, the platform's components (operator, istiod, Keycloak,
//! SPIRE, Shipwright, MCP gateway, OTel collector, Phoenix), enabled namespaces, and how
//! many agents and tools are ready.

use crossterm::event::KeyEvent;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph, Wrap};
use ratatui::Frame;

use crate::store::kagenti::ComponentState;
use crate::store::pane::PaneId;
use crate::ui::component::{Component, Ctx, Group, Hint, Outcome, Pane};
use crate::ui::keymap::Action;

pub struct Status;

impl Pane for Status {
    fn id(&self) -> PaneId {
        PaneId::Status
    }
    fn title(&self) -> &'static str {
        "Status"
    }
    fn short_title(&self) -> &'static str {
        "Stat"
    }
    fn group(&self) -> Group {
        Group::Kagenti
    }
    fn aliases(&self) -> &'static [&'static str] {
        &["platform"]
    }
    fn has_data(&self, fleet: &crate::store::Fleet) -> bool {
        super::any_kagenti(fleet)
    }
}

impl Component for Status {
    fn hints(&self) -> Vec<Hint> {
        Vec::new()
    }
    fn on_key(&mut self, _key: KeyEvent, _action: Option<Action>, _cx: &Ctx) -> Outcome {
        Outcome::Ignored
    }
    fn draw(&mut self, f: &mut Frame, area: Rect, cx: &Ctx) {
        draw(f, area, cx)
    }
}

fn draw(f: &mut Frame, area: Rect, cx: &Ctx) {
    let t = cx.theme;
    // one component a line where the screen has the rows: its state and why read whole
    let width = area.width.saturating_sub(2) as usize;
    let tall = lines(cx, true, width);
    let lines = if tall.len() as u16 + 2 <= area.height { tall } else { lines(cx, false, width) };
    f.render_widget(
        Paragraph::new(lines)
            .wrap(Wrap { trim: false })
            .block(Block::default().borders(Borders::ALL).title(" Kagenti platform ").border_style(t.muted)),
        area,
    );
}

/// Each cluster's platform: brands, agents and tools ready, the components (one a line when
/// `tall`, else side by side, a line broken between components within `width`, never inside
/// one), the namespaces enabled for agents.
fn lines(cx: &Ctx, tall: bool, width: usize) -> Vec<Line<'static>> {
    let t = cx.theme;
    let mut lines = Vec::new();
    for i in cx.cluster_indices() {
        let c = cx.cluster(i);
        let k = &c.kagenti;
        let head = match (k.installed(), &k.brands) {
            (Some(true), Some(b)) => {
                Span::styled(format!("  {}", b.iter().map(|b| b.name()).collect::<Vec<_>>().join(" + ")), t.ok)
            }
            (Some(false), _) => Span::styled("  not installed", t.muted),
            _ if !c.conn.reachable() => Span::styled(format!("  {}", c.conn.label()), t.crit),
            _ => Span::styled("  discovering", t.muted),
        };
        lines.push(Line::from(vec![Span::styled(cx.display_name(&c.context).to_string(), t.accent), head]));
        if k.installed() == Some(true) {
            let count = |ty: &str| {
                let all: Vec<_> = k.agents.iter().filter(|a| a.wtype == ty).collect();
                (all.iter().filter(|a| a.desired > 0 && a.ready >= a.desired).count(), all.len())
            };
            let (ar, at) = count("agent");
            let (tr, tt) = count("tool");
            lines.push(Line::from(Span::styled(format!("  agents {ar}/{at} ready · tools {tr}/{tt} ready"), t.text)));
            match &k.platform {
                Some(p) => {
                    let mut spans = vec![Span::raw("  ")];
                    for (name, st) in &p.components {
                        let (sym, style, extra) = match st {
                            ComponentState::Ready => {
                                ("●", t.ok, if tall { " ready".to_string() } else { String::new() })
                            }
                            ComponentState::Degraded(why) => ("▲", t.warn, format!(" ({why})")),
                            ComponentState::Missing => ("○", t.muted, " (not installed)".to_string()),
                        };
                        if tall {
                            lines.push(Line::from(Span::styled(format!("  {sym} {name}{extra}"), style)));
                            continue;
                        }
                        let piece = format!("{sym} {name}{extra}   ");
                        let used: usize = spans.iter().map(|s| s.width()).sum();
                        if spans.len() > 1 && used + piece.trim_end().chars().count() > width {
                            lines.push(packed(std::mem::replace(&mut spans, vec![Span::raw("  ")])));
                        }
                        spans.push(Span::styled(piece, style));
                    }
                    if !tall {
                        lines.push(packed(spans));
                    }
                    lines.push(Line::from(Span::styled(
                        format!(
                            "  namespaces enabled for agents: {}",
                            if p.enabled_namespaces.is_empty() {
                                "none".to_string()
                            } else {
                                p.enabled_namespaces.join(", ")
                            }
                        ),
                        t.muted,
                    )));
                }
                None => lines.push(Line::from(Span::styled("  components: not checked yet", t.muted))),
            }
        }
        lines.push(Line::from(""));
    }
    lines
}

/// A line of components, the gap after its last one dropped (it would wrap into a blank line).
fn packed(mut spans: Vec<Span<'static>>) -> Line<'static> {
    if let Some(last) = spans.last_mut() {
        last.content = last.content.trim_end().to_string().into();
    }
    Line::from(spans)
}
