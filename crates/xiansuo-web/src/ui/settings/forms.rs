//! Web forms (admins only): the forms visitors fill in on other sites — which lead fields they
//! ask for and which are required, the source their leads get, the thank-you message, the
//! sites allowed to post, the consent checkbox — created, changed, switched off and deleted
//! through `xiansuo_app::channels::forms`, as `/api/v1/forms` does; the auto-reply email in
//! Chinese and English with a preview filled in from a sample submission by the same code as
//! the real one (a button that posts the form without saving; `settings.js` refreshes it while
//! typing); and the HTML to paste into a page, ready to copy.

use super::frame::{
    admin_only, no_refusal, optional_text, parse_id, refusal, saved, saved_notice, Frame, Menu,
    Refusal,
};
use crate::ui::page::{csrf_refusal, render, store_error_page, Choice, Chrome, Viewer};
use crate::AppState;
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use serde::Deserialize;
use serde_json::Value;
use xiansuo_app::channels::forms::{
    self, AutoReplyInput, ConsentInput, FormChange, FormField, FormInput, ThankYouInput,
};
use xiansuo_app::StoreError;

/// The lead fields a form may ask for, in the order the form shows them.
const LEAD_FIELDS: [&str; 10] = [
    "name",
    "company",
    "title",
    "phone",
    "email",
    "industry",
    "province",
    "city",
    "company_size",
    "description",
];

/// The sample submissions a preview fills the auto-reply in with, per visitor language.
const SAMPLES: [(&str, [(&str, &str); 5]); 2] = [
    (
        "zh",
        [
            ("name", "张伟"),
            ("company", "恒远信息科技有限公司"),
            ("title", "采购经理"),
            ("email", "zhang.wei@example.com"),
            ("phone", "13800138000"),
        ],
    ),
    (
        "en",
        [
            ("name", "Emma Li"),
            ("company", "Northwind Trading Ltd."),
            ("title", "Purchasing Manager"),
            ("email", "emma.li@example.com"),
            ("phone", "+86 138 0013 8000"),
        ],
    ),
];

/// The auto-reply's fields as the page edits them.
#[derive(Default)]
struct ReplyFields {
    enabled: bool,
    subject_zh: String,
    body_zh: String,
    subject_en: String,
    body_en: String,
}

impl ReplyFields {
    /// The auto-reply as the API takes it.
    fn input(&self) -> AutoReplyInput {
        AutoReplyInput {
            enabled: Some(self.enabled),
            subject_zh: optional_text(&self.subject_zh),
            body_zh: optional_text(&self.body_zh),
            subject_en: optional_text(&self.subject_en),
            body_en: optional_text(&self.body_en),
        }
    }
}

/// The fields of a web form's settings form; `ask` and `required` repeat, one per field.
#[derive(Default)]
struct WebForm {
    csrf_token: String,
    name: String,
    language: String,
    ask: Vec<String>,
    required: Vec<String>,
    source: String,
    thank_you: String,
    allowed_origins: String,
    consent: String,
    consent_required: bool,
    active: bool,
    reply: ReplyFields,
}

impl WebForm {
    fn blank() -> WebForm {
        WebForm {
            language: "zh".into(),
            ask: vec!["name".into(), "phone".into(), "company".into()],
            required: vec!["name".into(), "phone".into()],
            source: "web_form".into(),
            active: true,
            ..WebForm::default()
        }
    }

    fn from_pairs(pairs: Vec<(String, String)>) -> WebForm {
        let mut form = WebForm::default();
        for (key, value) in pairs {
            match key.as_str() {
                "csrf_token" => form.csrf_token = value,
                "name" => form.name = value,
                "language" => form.language = value,
                "ask" => form.ask.push(value),
                "required" => form.required.push(value),
                "source" => form.source = value,
                "thank_you" => form.thank_you = value,
                "allowed_origins" => form.allowed_origins = value,
                "consent" => form.consent = value,
                "consent_required" => form.consent_required = !value.is_empty(),
                "active" => form.active = !value.is_empty(),
                "auto_reply.enabled" => form.reply.enabled = !value.is_empty(),
                "auto_reply.subject_zh" => form.reply.subject_zh = value,
                "auto_reply.body_zh" => form.reply.body_zh = value,
                "auto_reply.subject_en" => form.reply.subject_en = value,
                "auto_reply.body_en" => form.reply.body_en = value,
                _ => {}
            }
        }
        form
    }

    /// A stored form in the page's shape. Thank-you and consent texts are edited in the form's
    /// own language.
    fn of_form(stored: &forms::Form) -> WebForm {
        let english = stored.language == "en";
        let in_language = |zh: &Option<String>, en: &Option<String>| {
            (if english { en } else { zh }).clone().unwrap_or_default()
        };
        let reply = &stored.auto_reply;
        WebForm {
            name: stored.name.clone(),
            ask: stored.fields.iter().map(|f| f.field.clone()).collect(),
            required: stored
                .fields
                .iter()
                .filter(|f| f.required)
                .map(|f| f.field.clone())
                .collect(),
            source: stored.source.clone(),
            thank_you: in_language(&stored.thank_you.zh, &stored.thank_you.en),
            allowed_origins: stored.allowed_origins.join("\n"),
            consent: stored
                .consent
                .as_ref()
                .map(|c| in_language(&c.text_zh, &c.text_en))
                .unwrap_or_default(),
            consent_required: stored.consent.as_ref().is_some_and(|c| c.required),
            active: stored.active,
            reply: ReplyFields {
                enabled: reply.enabled,
                subject_zh: reply.subject_zh.clone().unwrap_or_default(),
                body_zh: reply.body_zh.clone().unwrap_or_default(),
                subject_en: reply.subject_en.clone().unwrap_or_default(),
                body_en: reply.body_en.clone().unwrap_or_default(),
            },
            language: stored.language.clone(),
            ..WebForm::default()
        }
    }

    /// The form as `POST /api/v1/forms` takes it. Custom fields a form already asks for are
    /// kept as they are (`kept`), after the standard fields.
    fn input(&self, kept: &[FormField]) -> FormInput {
        let mut fields: Vec<FormField> = LEAD_FIELDS
            .iter()
            .filter(|f| self.ask.iter().any(|a| a == *f))
            .map(|f| FormField {
                field: (*f).to_owned(),
                required: Some(self.required.iter().any(|r| r == f)),
                ..FormField::default()
            })
            .collect();
        fields.extend(kept.iter().cloned());
        let english = self.language == "en";
        let text = optional_text(&self.thank_you);
        let thank_you = if english {
            ThankYouInput { zh: None, en: text }
        } else {
            ThankYouInput { zh: text, en: None }
        };
        let consent = optional_text(&self.consent).map(|text| {
            let (text_zh, text_en) = if english {
                (None, Some(text))
            } else {
                (Some(text), None)
            };
            ConsentInput {
                text_zh,
                text_en,
                required: Some(self.consent_required),
            }
        });
        let origins: Vec<String> = self
            .allowed_origins
            .lines()
            .map(str::trim)
            .filter(|o| !o.is_empty())
            .map(str::to_owned)
            .collect();
        FormInput {
            name: Some(self.name.trim().to_owned()),
            language: Some(self.language.trim().to_owned()),
            fields: Some(fields),
            source: Some(self.source.trim().to_owned()),
            thank_you: Some(thank_you),
            allowed_origins: Some(origins),
            consent,
            active: Some(self.active),
            auto_reply: Some(self.reply.input()),
            ..FormInput::default()
        }
    }

    /// The change `PATCH /api/v1/forms/{id}` takes: what this page edits; the rest (campaign,
    /// dedup policy, owner, redirect) stays as it is.
    fn change(&self, kept: &[FormField]) -> FormChange {
        let input = self.input(kept);
        FormChange {
            name: Some(input.name),
            language: Some(input.language),
            fields: Some(input.fields),
            source: Some(input.source),
            thank_you: Some(input.thank_you),
            allowed_origins: Some(input.allowed_origins),
            consent: Some(input.consent),
            active: Some(input.active),
            auto_reply: Some(input.auto_reply),
            ..FormChange::default()
        }
    }
}

/// A lead field with its two checkboxes.
struct FieldChoice {
    code: &'static str,
    label: &'static str,
    asked: bool,
    required: bool,
}

/// The auto-reply's subject and body in one language, as the page edits them.
struct ReplyLanguage {
    lang: &'static str,
    subject_key: String,
    subject_label: &'static str,
    subject: String,
    body_key: String,
    body_label: &'static str,
    body: String,
}

/// What one visitor gets, as the preview shows it.
struct PreviewRow {
    heading: &'static str,
    subject: String,
    body: String,
}

/// Everything the web form's settings form shows.
struct FormView {
    name: String,
    languages: Vec<Choice>,
    fields: Vec<FieldChoice>,
    source: String,
    thank_you: String,
    allowed_origins: String,
    consent: String,
    consent_required: bool,
    active: bool,
    reply_enabled: bool,
    replies: [ReplyLanguage; 2],
    /// Where the preview button posts the form.
    preview_action: String,
    /// The auto-reply as visitors get it, after the preview button.
    preview: Option<Vec<PreviewRow>>,
}

fn form_view(
    user: &Viewer,
    form: WebForm,
    id: Option<i64>,
    preview: Option<Vec<PreviewRow>>,
) -> FormView {
    let t = crate::ui::i18n::texts(&user.actor.locale);
    let more = super::texts::settings_texts(&user.actor.locale).more;
    let reply = form.reply;
    let language = |lang, subject_label, subject, body_label, body| ReplyLanguage {
        lang,
        subject_key: format!("auto_reply.subject_{lang}"),
        subject_label,
        subject,
        body_key: format!("auto_reply.body_{lang}"),
        body_label,
        body,
    };
    FormView {
        reply_enabled: reply.enabled,
        replies: [
            language(
                "zh",
                more.subject_zh,
                reply.subject_zh,
                more.body_zh,
                reply.body_zh,
            ),
            language(
                "en",
                more.subject_en,
                reply.subject_en,
                more.body_en,
                reply.body_en,
            ),
        ],
        preview_action: id.map_or_else(
            || "/settings/forms/preview".to_owned(),
            |id| format!("/settings/forms/{id}/preview"),
        ),
        preview,
        languages: vec![
            Choice::new("zh", "中文", &form.language),
            Choice::new("en", "English", &form.language),
        ],
        fields: LEAD_FIELDS
            .iter()
            .map(|code| FieldChoice {
                code,
                label: t.field(code),
                asked: form.ask.iter().any(|a| a == code),
                required: form.required.iter().any(|r| r == code),
            })
            .collect(),
        name: form.name,
        source: form.source,
        thank_you: form.thank_you,
        allowed_origins: form.allowed_origins,
        consent: form.consent,
        consent_required: form.consent_required,
        active: form.active,
    }
}

struct FormRow {
    id: i64,
    name: String,
    path: String,
    source: String,
    active: bool,
}

#[derive(Template)]
#[template(path = "settings_forms.html")]
struct FormsPage {
    chrome: Chrome,
    menu: Menu,
    forms: Vec<FormRow>,
    form: FormView,
    refused: Refusal,
    notice: Option<&'static str>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub(crate) struct SavedQuery {
    saved: String,
}

async fn forms_page(
    state: &AppState,
    user: &Viewer,
    form: WebForm,
    refused: Refusal,
    notice: Option<&'static str>,
    preview: Option<Vec<PreviewRow>>,
) -> Response {
    let frame = Frame::new(user, "/settings/forms");
    let list = match forms::list(&state.db, &user.actor).await {
        Ok(list) => list,
        Err(e) => return store_error_page(frame.chrome, e),
    };
    let rows = list
        .items
        .into_iter()
        .map(|f| FormRow {
            id: f.id,
            name: f.name,
            path: f.public_path,
            source: f.source,
            active: f.active,
        })
        .collect();
    let page = FormsPage {
        forms: rows,
        form: form_view(user, form, None, preview),
        refused,
        notice,
        chrome: frame.chrome,
        menu: frame.menu,
    };
    render(page.refused.status, &page)
}

/// `GET /settings/forms`
pub(crate) async fn list(
    State(state): State<AppState>,
    user: Viewer,
    Query(query): Query<SavedQuery>,
) -> Response {
    if let Some(refused) = admin_only(&user, "/settings/forms") {
        return refused;
    }
    let s = super::texts::settings_texts(&user.actor.locale);
    let notice = saved_notice(s, &query.saved);
    forms_page(&state, &user, WebForm::blank(), no_refusal(), notice, None).await
}

/// `POST /settings/forms`: a new web form; its page, with the snippet, opens.
pub(crate) async fn create(
    State(state): State<AppState>,
    user: Viewer,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Response {
    let form = WebForm::from_pairs(pairs);
    if let Some(refused) = csrf_refusal(&user, &form.csrf_token) {
        return refused;
    }
    if let Some(refused) = admin_only(&user, "/settings/forms") {
        return refused;
    }
    let new = form.input(&[]).into();
    match forms::create(&state.db, &user.actor, new, state.clock.now()).await {
        Ok(created) => Redirect::to(&format!("/settings/forms/{}", created.id)).into_response(),
        Err(e) => match refusal(&user, "/settings/forms", e) {
            Ok(refused) => forms_page(&state, &user, form, refused, None, None).await,
            Err(page) => *page,
        },
    }
}

#[derive(Template)]
#[template(path = "settings_form.html")]
struct FormPage {
    chrome: Chrome,
    menu: Menu,
    id: i64,
    url: String,
    snippet: String,
    form: FormView,
    refused: Refusal,
    notice: Option<&'static str>,
}

/// What `form_page` shows besides the stored form: the form as sent, a refusal, the saved
/// notice, a preview.
#[derive(Default)]
struct Shown {
    sent: Option<WebForm>,
    refused: Option<Refusal>,
    notice: Option<&'static str>,
    preview: Option<Vec<PreviewRow>>,
}

async fn form_page(
    state: &AppState,
    user: &Viewer,
    headers: &HeaderMap,
    id: i64,
    shown: Shown,
) -> Response {
    let frame = Frame::new(user, "/settings/forms");
    let loaded = async {
        let stored = forms::get(&state.db, &user.actor, id).await?;
        let defs = forms::lead_custom_fields(&state.db).await?;
        Ok::<_, StoreError>((stored, defs))
    };
    let (stored, defs) = match loaded.await {
        Ok(loaded) => loaded,
        Err(e) => return store_error_page(frame.chrome, e),
    };
    // The address as the admin's browser reached this server, as the API's embed answers it.
    let base = crate::api::forms::public_base(state, headers).unwrap_or_default();
    let url = format!("{base}/f/{}", stored.key);
    let lang = stored.language_for(None);
    let snippet = match crate::form_pages::embed_snippet(&stored, &defs, lang, &url) {
        Ok(snippet) => snippet,
        Err(e) => {
            return store_error_page(frame.chrome, StoreError::Internal(anyhow::Error::from(e)))
        }
    };
    let form = shown.sent.unwrap_or_else(|| WebForm::of_form(&stored));
    let page = FormPage {
        id,
        url,
        snippet,
        form: form_view(user, form, Some(id), shown.preview),
        refused: shown.refused.unwrap_or_else(no_refusal),
        notice: shown.notice,
        chrome: frame.chrome,
        menu: frame.menu,
    };
    render(page.refused.status, &page)
}

fn not_found(user: &Viewer) -> Response {
    store_error_page(
        Chrome::for_user(user, "/settings/forms"),
        StoreError::NotFound("form"),
    )
}

/// `GET /settings/forms/{id}`: the form's settings, its address and the snippet to embed.
pub(crate) async fn show(
    State(state): State<AppState>,
    user: Viewer,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(query): Query<SavedQuery>,
) -> Response {
    if let Some(refused) = admin_only(&user, "/settings/forms") {
        return refused;
    }
    let Some(id) = parse_id(&id) else {
        return not_found(&user);
    };
    let s = super::texts::settings_texts(&user.actor.locale);
    let notice = saved_notice(s, &query.saved);
    let shown = Shown {
        notice,
        ..Shown::default()
    };
    form_page(&state, &user, &headers, id, shown).await
}

/// `POST /settings/forms/{id}`, as `PATCH /api/v1/forms/{id}`.
pub(crate) async fn update(
    State(state): State<AppState>,
    user: Viewer,
    headers: HeaderMap,
    Path(id): Path<String>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Response {
    let form = WebForm::from_pairs(pairs);
    if let Some(refused) = csrf_refusal(&user, &form.csrf_token) {
        return refused;
    }
    if let Some(refused) = admin_only(&user, "/settings/forms") {
        return refused;
    }
    let Some(id) = parse_id(&id) else {
        return not_found(&user);
    };
    // Custom fields the form asks for have no checkbox here; they stay as they are.
    let kept: Vec<FormField> = match forms::get(&state.db, &user.actor, id).await {
        Ok(stored) => stored
            .fields
            .iter()
            .filter(|f| f.field.starts_with("custom."))
            .map(FormField::from)
            .collect(),
        Err(e) => return store_error_page(Chrome::for_user(&user, "/settings/forms"), e),
    };
    let change = form.change(&kept).into();
    match forms::update(&state.db, &user.actor, id, change, state.clock.now()).await {
        Ok(_) => saved(&format!("/settings/forms/{id}")),
        Err(e) => match refusal(&user, "/settings/forms", e) {
            Ok(refused) => {
                let shown = Shown {
                    sent: Some(form),
                    refused: Some(refused),
                    ..Shown::default()
                };
                form_page(&state, &user, &headers, id, shown).await
            }
            Err(page) => *page,
        },
    }
}

/// The auto-reply of `form` as visitors of each language would get it with the sample
/// submissions, or the refusal of a template saving would refuse.
fn rendered_replies(
    user: &Viewer,
    form: &WebForm,
) -> Result<Result<Vec<PreviewRow>, Refusal>, Box<Response>> {
    let more = super::texts::settings_texts(&user.actor.locale).more;
    let samples: Vec<(&str, serde_json::Map<String, Value>)> = SAMPLES
        .iter()
        .map(|(language, values)| {
            let values = values
                .iter()
                .map(|(k, v)| ((*k).to_owned(), Value::from(*v)))
                .collect();
            (*language, values)
        })
        .collect();
    match forms::preview_auto_reply(form.reply.input(), form.name.trim(), &samples) {
        Ok(replies) => Ok(Ok(replies
            .into_iter()
            .map(|r| PreviewRow {
                heading: if r.language == "en" {
                    more.preview_english
                } else {
                    more.preview_chinese
                },
                subject: r.subject,
                body: r.body,
            })
            .collect())),
        Err(invalid) => refusal(user, "/settings/forms", StoreError::Invalid(invalid)).map(Err),
    }
}

/// `POST /settings/forms/preview`: the new form's page again, as sent, with its auto-reply
/// previewed; nothing is saved.
pub(crate) async fn preview_new(
    State(state): State<AppState>,
    user: Viewer,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Response {
    let form = WebForm::from_pairs(pairs);
    if let Some(refused) = csrf_refusal(&user, &form.csrf_token) {
        return refused;
    }
    if let Some(refused) = admin_only(&user, "/settings/forms") {
        return refused;
    }
    let (preview, refused) = match rendered_replies(&user, &form) {
        Ok(Ok(preview)) => (Some(preview), no_refusal()),
        Ok(Err(refused)) => (None, refused),
        Err(page) => return *page,
    };
    forms_page(&state, &user, form, refused, None, preview).await
}

/// `POST /settings/forms/{id}/preview`: the form's page again, as sent, with its auto-reply
/// previewed; nothing is saved.
pub(crate) async fn preview(
    State(state): State<AppState>,
    user: Viewer,
    headers: HeaderMap,
    Path(id): Path<String>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Response {
    let form = WebForm::from_pairs(pairs);
    if let Some(refused) = csrf_refusal(&user, &form.csrf_token) {
        return refused;
    }
    if let Some(refused) = admin_only(&user, "/settings/forms") {
        return refused;
    }
    let Some(id) = parse_id(&id) else {
        return not_found(&user);
    };
    let (preview, refused) = match rendered_replies(&user, &form) {
        Ok(Ok(preview)) => (Some(preview), None),
        Ok(Err(refused)) => (None, Some(refused)),
        Err(page) => return *page,
    };
    let shown = Shown {
        sent: Some(form),
        refused,
        preview,
        ..Shown::default()
    };
    form_page(&state, &user, &headers, id, shown).await
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub(crate) struct CsrfPost {
    csrf_token: String,
}

/// `POST /settings/forms/{id}/delete`, as `DELETE /api/v1/forms/{id}`: the form stops taking
/// posts; the leads it brought stay.
pub(crate) async fn delete(
    State(state): State<AppState>,
    user: Viewer,
    Path(id): Path<String>,
    Form(form): Form<CsrfPost>,
) -> Response {
    if let Some(refused) = csrf_refusal(&user, &form.csrf_token) {
        return refused;
    }
    if let Some(refused) = admin_only(&user, "/settings/forms") {
        return refused;
    }
    let Some(id) = parse_id(&id) else {
        return not_found(&user);
    };
    match forms::delete(&state.db, &user.actor, id, state.clock.now()).await {
        Ok(()) => saved("/settings/forms"),
        Err(e) => store_error_page(Chrome::for_user(&user, "/settings/forms"), e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_posted_form_becomes_the_apis_input_in_its_own_language() {
        let pairs = [
            ("name", "展会报名"),
            ("language", "en"),
            ("ask", "email"),
            ("ask", "name"),
            ("required", "email"),
            ("source", "event"),
            ("thank_you", "Thanks!"),
            ("allowed_origins", "https://a.example\n\nhttps://b.example"),
            ("consent", ""),
            ("active", "on"),
        ];
        let form = WebForm::from_pairs(
            pairs
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
        );
        let budget = FormField {
            field: "custom.budget".into(),
            required: Some(false),
            ..FormField::default()
        };
        let input = form.input(std::slice::from_ref(&budget));
        let asked = |field: &str, required: bool| FormField {
            field: field.into(),
            required: Some(required),
            ..FormField::default()
        };
        assert_eq!(
            input.fields,
            Some(vec![asked("name", false), asked("email", true), budget])
        );
        assert_eq!(
            input.thank_you,
            Some(ThankYouInput {
                zh: None,
                en: Some("Thanks!".into())
            })
        );
        assert_eq!(
            input.allowed_origins,
            Some(vec![
                "https://a.example".to_owned(),
                "https://b.example".to_owned()
            ])
        );
        assert_eq!(input.consent, None);
        let change = form.change(&[]);
        assert_eq!(change.campaign, None, "what the page does not edit stays");
        assert_eq!(
            change.consent,
            Some(None),
            "an empty consent text removes it"
        );
    }
}
