//! What-if on a placement (`w` on a BindingPolicy): its cluster selectors as text, edited and
//! evaluated against the hub's ManagedClusters (`store::whatif`), with what would be added and
//! removed, whether those added are Available and have the GPUs the policy's objects request,
//! and which singleton statuses would break or come back. Nothing is written: it ends with the
//! kubectl command that would make the change (`C` copies it).

use std::collections::BTreeMap;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph, Wrap};
use ratatui::Frame;

use crate::store::selector::Selector;
use crate::store::whatif::{self, WhatIf};
use crate::ui::component::{Component, Ctx, Hint, Outcome, View};
use crate::ui::keymap::Action;

/// The editing both what-ifs share: text typed in place, `Enter` reads it (`parse`) and stops
/// editing once it reads, `Esc` stops editing (or leaves when nothing was read yet), `w` or
/// `Enter` edits again.
struct Edited<T> {
    input: String,
    /// What was last read (Enter), or why the text could not be read.
    evaluated: Option<Result<T, String>>,
    editing: bool,
}

impl<T> Edited<T> {
    fn new(input: String) -> Edited<T> {
        Edited { input, evaluated: None, editing: true }
    }
    fn value(&self) -> Option<&T> {
        self.evaluated.as_ref()?.as_ref().ok()
    }
    fn hints(&self, again: &'static str, copy: &'static str, back: &'static str) -> Vec<Hint> {
        if self.editing {
            vec![
                Hint::key("Enter", "evaluate (nothing is written)"),
                Hint::key("Ctrl-U", "clear"),
                Hint::key("Esc", "stop editing / back"),
            ]
        } else {
            vec![Hint::key("w Enter", again), Hint::action(Action::Copy, copy), Hint::action(Action::Back, back)]
        }
    }
    fn on_key(&mut self, key: KeyEvent, action: Option<Action>, parse: impl Fn(&str) -> Result<T, String>) -> Outcome {
        if !self.editing {
            return match (key.code, action) {
                (KeyCode::Char('w') | KeyCode::Enter, _) => {
                    self.editing = true;
                    Outcome::Redraw
                }
                (_, Some(Action::Back)) => Outcome::Close,
                _ => Outcome::Ignored,
            };
        }
        match key.code {
            KeyCode::Enter => {
                self.evaluated = Some(parse(&self.input));
                self.editing = self.evaluated.as_ref().is_some_and(|r| r.is_err());
            }
            KeyCode::Esc if self.value().is_some() => self.editing = false,
            KeyCode::Esc => return Outcome::Close,
            KeyCode::Backspace => {
                self.input.pop();
            }
            KeyCode::Char('u') if key.modifiers.contains(KeyModifiers::CONTROL) => self.input.clear(),
            KeyCode::Char(c) if !key.modifiers.contains(KeyModifiers::CONTROL) => self.input.push(c),
            _ => return Outcome::Handled,
        }
        Outcome::Redraw
    }
    /// `label › text▏`
    fn line(&self, label: String, t: &crate::theme::Theme) -> Line<'static> {
        Line::from(vec![
            Span::styled(label, t.muted),
            Span::styled(self.input.clone(), t.text),
            Span::styled(if self.editing { "▏" } else { "" }, t.accent),
        ])
    }
}

pub struct WhatIfView {
    wds: String,
    policy: String,
    edit: Edited<Vec<Selector>>,
}

impl WhatIfView {
    /// Opened on `policy` of the WDS context `wds`, its selectors as they are now.
    pub fn new(wds: &str, policy: &str, selectors: &[Selector]) -> WhatIfView {
        let input = selectors.iter().map(selector_text).collect::<Vec<_>>().join(" | ");
        WhatIfView { wds: wds.into(), policy: policy.into(), edit: Edited::new(input) }
    }
    fn selectors(&self) -> Option<&[Selector]> {
        self.edit.value().map(Vec::as_slice)
    }
}

/// A selector as the input reads it back (`{}` for the empty one: every cluster).
fn selector_text(s: &Selector) -> String {
    if s.0.is_empty() {
        "{}".into()
    } else {
        s.text()
    }
}

impl View for WhatIfView {
    fn crumb(&self) -> String {
        format!("what if {}", self.policy)
    }
}

impl Component for WhatIfView {
    fn hints(&self) -> Vec<Hint> {
        self.edit.hints(
            "edit the selectors again",
            "copy the kubectl command that would make it",
            "back to the policies",
        )
    }
    fn legend(&self) -> Vec<(&'static str, &'static str)> {
        vec![
            ("+ cluster", "selected after the edit, not now"),
            ("− cluster", "selected now, not after the edit"),
            ("k=v  k!=v  k in (a,b)  k notin (a,b)  k  !k", "label selector terms, ANDed (kubectl's syntax)"),
            ("|", "between selectors: a cluster matching any one is selected (clusterSelectors)"),
            ("{}", "the empty selector: every cluster"),
        ]
    }
    fn typing(&self) -> bool {
        self.edit.editing
    }
    fn on_key(&mut self, key: KeyEvent, action: Option<Action>, _cx: &Ctx) -> Outcome {
        self.edit.on_key(key, action, crate::store::selector::parse_selectors)
    }
    fn copy_text(&mut self, _cx: &Ctx) -> Option<String> {
        self.selectors().map(|s| whatif::kubectl_patch(&self.wds, &self.policy, s))
    }
    fn draw(&mut self, f: &mut Frame, area: Rect, cx: &Ctx) {
        let t = cx.theme;
        let mut lines = vec![
            self.edit.line("cluster selectors › ".into(), t),
            Line::from(Span::styled(
                "k=v, k!=v, k in (a,b), k notin (a,b), k, !k (ANDed) · | between selectors (ORed) · {} every cluster",
                t.muted,
            )),
            Line::default(),
        ];
        match &self.edit.evaluated {
            None => lines.push(Line::from(Span::styled(
                "Enter evaluates the selectors against the hub's ManagedClusters; nothing is written.",
                t.muted,
            ))),
            Some(Err(e)) => lines.push(Line::from(Span::styled(format!("cannot read the selectors: {e}"), t.crit))),
            Some(Ok(selectors)) => match whatif::cluster_selectors(cx.fleet, &self.wds, &self.policy, selectors) {
                None => lines.push(Line::from(Span::styled(
                    format!(
                        "{} has no Binding yet, or no ITS is known for {}: nothing to compare",
                        self.policy, self.wds
                    ),
                    t.warn,
                ))),
                Some(w) => result_lines(&mut lines, &w, &self.wds, &self.policy, selectors, cx),
            },
        }
        let title = format!(" what if {} ({}) selected other clusters · nothing is written ", self.policy, self.wds);
        f.render_widget(
            Paragraph::new(lines)
                .wrap(Wrap { trim: false })
                .block(Block::default().borders(Borders::ALL).title(title).border_style(t.muted)),
            area,
        );
    }
}

fn list(names: &[String]) -> String {
    if names.is_empty() {
        "no cluster".into()
    } else {
        names.join(", ")
    }
}

fn result_lines(lines: &mut Vec<Line<'static>>, w: &WhatIf, wds: &str, policy: &str, selectors: &[Selector], cx: &Ctx) {
    let t = cx.theme;
    // the labels' column fits the longest cluster name
    let width = w.added.iter().map(|a| a.cluster.len()).chain(w.removed.iter().map(String::len)).max().unwrap_or(0) + 4;
    let width = width.max(12);
    let row = |label: &str, text: String, style: Style| {
        Line::from(vec![Span::styled(format!("{label:<width$}"), t.muted), Span::styled(text, style)])
    };
    if let Some(why) = &w.refused {
        lines.push(row(
            "refused",
            format!("{why}: the binding controller cannot convert this selector, gives up and keeps the destinations as they are"),
            t.crit,
        ));
    }
    lines.push(row("now", list(&w.before), t.text));
    lines.push(row("would be", list(&w.after), t.text));
    if w.added.is_empty() && w.removed.is_empty() {
        lines.push(row("", "no change of clusters".into(), t.muted));
    }
    for a in &w.added {
        let mut parts = vec![match a.available {
            Some(true) => "Available".to_string(),
            Some(false) => "NOT Available (KubeStellar selects it anyway; nothing arrives until it is)".to_string(),
            None => "availability unknown".to_string(),
        }];
        let mut bad = a.available != Some(true);
        if let Some((need, free)) = a.gpus {
            parts.push(match free {
                Some(free) if free as i64 >= need => format!("{need} GPUs requested, {free} free there: fits"),
                Some(free) => {
                    bad = true;
                    format!("{need} GPUs requested, {free} free there: does NOT fit")
                }
                None => format!("{need} GPUs requested, free GPUs unknown (kst does not read this cluster)"),
            });
        }
        lines.push(row(&format!("+ {}", a.cluster), parts.join(" · "), if bad { t.warn } else { t.ok }));
    }
    for r in &w.removed {
        lines.push(row(&format!("− {r}"), "its ManifestWorks would be pruned: the objects leave it".into(), t.warn));
    }
    for s in &w.singleton {
        let text = if s.after == 1 {
            format!("{}: singleton status would come back (one WEC, was {})", s.object.text(), s.before)
        } else {
            format!(
                "{}: singleton status would stop coming back ({} WECs counted across the WDS's policies; the policies get the error)",
                s.object.text(),
                s.after
            )
        };
        lines.push(row("singleton", text, if s.after == 1 { t.ok } else { t.crit }));
    }
    lines.push(row("objects", format!("{}, unchanged (only the cluster selectors are edited)", w.objects), t.muted));
    lines.push(Line::default());
    lines.push(row("to make it", whatif::kubectl_patch(wds, policy, selectors), t.text));
}

/// What-if on a ManagedCluster (`w` on a cluster in the Overview): its labels as text, edited and
/// evaluated against every BindingPolicy of the WDSes whose ITS knows it (`store::whatif`):
/// which policies would start or stop selecting it, so which objects would arrive or leave, and
/// which singleton statuses would break. Nothing is written: `C` copies the `kubectl label`.
pub struct LabelsWhatIfView {
    its: String,
    cluster: String,
    labels: BTreeMap<String, String>,
    edit: Edited<BTreeMap<String, String>>,
}

impl LabelsWhatIfView {
    /// On `cluster`, a ManagedCluster of the ITS context `its`, with its labels now.
    pub fn new(its: &str, cluster: &str, labels: &BTreeMap<String, String>) -> LabelsWhatIfView {
        let input = labels.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join(",");
        LabelsWhatIfView { its: its.into(), cluster: cluster.into(), labels: labels.clone(), edit: Edited::new(input) }
    }
}

impl View for LabelsWhatIfView {
    fn crumb(&self) -> String {
        format!("what if {} had other labels", self.cluster)
    }
}

impl Component for LabelsWhatIfView {
    fn hints(&self) -> Vec<Hint> {
        self.edit.hints("edit the labels again", "copy the kubectl label command that would make it", "back")
    }
    fn legend(&self) -> Vec<(&'static str, &'static str)> {
        vec![
            ("+ policy", "would start selecting the cluster: its objects arrive there"),
            ("− policy", "would stop selecting it: its ManifestWorks there are pruned, the objects leave"),
            ("k=v,k2=v2", "the cluster's labels, as kubectl label writes them"),
        ]
    }
    fn typing(&self) -> bool {
        self.edit.editing
    }
    fn on_key(&mut self, key: KeyEvent, action: Option<Action>, _cx: &Ctx) -> Outcome {
        self.edit.on_key(key, action, whatif::parse_labels)
    }
    fn copy_text(&mut self, _cx: &Ctx) -> Option<String> {
        self.edit.value().map(|l| whatif::kubectl_label(&self.its, &self.cluster, &self.labels, l))
    }
    fn draw(&mut self, f: &mut Frame, area: Rect, cx: &Ctx) {
        let t = cx.theme;
        let mut lines = vec![
            self.edit.line(format!("labels of {} › ", self.cluster), t),
            Line::from(Span::styled("k=v pairs separated by commas; a label left out is removed", t.muted)),
            Line::default(),
        ];
        match &self.edit.evaluated {
            None => lines.push(Line::from(Span::styled(
                "Enter evaluates the labels against every BindingPolicy of the WDSes this hub serves; nothing is written.",
                t.muted,
            ))),
            Some(Err(e)) => lines.push(Line::from(Span::styled(format!("cannot read the labels: {e}"), t.crit))),
            Some(Ok(labels)) => match whatif::cluster_labels(cx.fleet, &self.cluster, labels) {
                None => lines.push(Line::from(Span::styled(
                    format!("no ITS kst reads knows {}: nothing to compare", self.cluster),
                    t.warn,
                ))),
                Some(w) => {
                    let row = |label: String, text: String, style: Style| {
                        Line::from(vec![Span::styled(format!("{label:<28}"), t.muted), Span::styled(text, style)])
                    };
                    if w.gained.is_empty() && w.lost.is_empty() {
                        lines.push(row(String::new(), "no policy would select it differently".into(), t.muted));
                    }
                    for g in &w.gained {
                        let note = if w.available == Some(true) { "" } else { " (not Available: nothing arrives until it is)" };
                        lines.push(row(
                            format!("+ {}", g.policy),
                            format!("{} objects would be sent to {} ({}){note}", g.objects, w.cluster, g.wds),
                            if note.is_empty() { t.ok } else { t.warn },
                        ));
                    }
                    for l in &w.lost {
                        lines.push(row(
                            format!("− {}", l.policy),
                            format!("{} objects would leave {}: their ManifestWorks pruned ({})", l.objects, w.cluster, l.wds),
                            t.warn,
                        ));
                    }
                    for s in &w.singleton {
                        let text = if s.after == 1 {
                            format!("{}: singleton status would come back (one WEC, was {})", s.object.text(), s.before)
                        } else {
                            format!("{}: singleton status would stop coming back ({} WECs)", s.object.text(), s.after)
                        };
                        lines.push(row("singleton".into(), text, if s.after == 1 { t.ok } else { t.crit }));
                    }
                    lines.push(Line::default());
                    lines.push(row(
                        "to make it".into(),
                        whatif::kubectl_label(&self.its, &self.cluster, &self.labels, labels),
                        t.text,
                    ));
                }
            },
        }
        let title = format!(" what if {} ({}) had other labels · nothing is written ", self.cluster, self.its);
        f.render_widget(
            Paragraph::new(lines)
                .wrap(Wrap { trim: false })
                .block(Block::default().borders(Borders::ALL).title(title).border_style(t.muted)),
            area,
        );
    }
}
