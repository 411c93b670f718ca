//! Web forms (admins only): the forms visitors fill in on other sites — which lead fields they
//! ask for and which are required, the source their leads get, the thank-you message, the
//! sites allowed to post, the consent checkbox — created, changed, switched off and deleted
//! through `xiansuo_app::channels::forms`, as `/api/v1/forms` does; the auto-reply email in
//! Chinese and English with a preview filled in from a sample submission by the same code as
//! the real one (a button that posts the form without saving; `settings.js` refreshes it while
//! typing); and the HTML to paste into a page, ready to copy.

use super::frame::{
    admin_only, no_refusal, optional, parse_id, refusal, saved, saved_notice, text_of, Frame, Menu,
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
use serde_json::{json, Value};
use xiansuo_app::channels::forms;
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
    /// The `auto_reply` object of the API's body.
    fn body(&self) -> Value {
        json!({
            "enabled": self.enabled,
            "subject_zh": optional(&self.subject_zh),
            "body_zh": optional(&self.body_zh),
            "subject_en": optional(&self.subject_en),
            "body_en": optional(&self.body_en),
        })
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

    /// A stored form (as the API shows it) in the page's shape. Thank-you and consent texts are
    /// edited in the form's own language.
    fn of_form(stored: &Value) -> WebForm {
        let language = text_of(&stored["language"]);
        let fields = stored["fields"].as_array().cloned().unwrap_or_default();
        let in_language = |texts: &Value, zh: &str, en: &str| {
            text_of(&texts[if language == "en" { en } else { zh }])
        };
        WebForm {
            name: text_of(&stored["name"]),
            ask: fields.iter().map(|f| text_of(&f["field"])).collect(),
            required: fields
                .iter()
                .filter(|f| f["required"] == true)
                .map(|f| text_of(&f["field"]))
                .collect(),
            source: text_of(&stored["source"]),
            thank_you: in_language(&stored["thank_you"], "zh", "en"),
            allowed_origins: stored["allowed_origins"]
                .as_array()
                .map(|o| o.iter().map(text_of).collect::<Vec<_>>().join("\n"))
                .unwrap_or_default(),
            consent: in_language(&stored["consent"], "text_zh", "text_en"),
            consent_required: stored["consent"]["required"] == true,
            active: stored["active"].as_bool().unwrap_or(true),
            reply: ReplyFields {
                enabled: stored["auto_reply"]["enabled"] == true,
                subject_zh: text_of(&stored["auto_reply"]["subject_zh"]),
                body_zh: text_of(&stored["auto_reply"]["body_zh"]),
                subject_en: text_of(&stored["auto_reply"]["subject_en"]),
                body_en: text_of(&stored["auto_reply"]["body_en"]),
            },
            language,
            ..WebForm::default()
        }
    }

    /// The body of `POST` or `PATCH /api/v1/forms`. Custom fields a form already asks for are
    /// kept as they are (`kept`), after the standard fields.
    fn body(&self, kept: &[Value]) -> Value {
        let mut fields: Vec<Value> = LEAD_FIELDS
            .iter()
            .filter(|f| self.ask.iter().any(|a| a == *f))
            .map(|f| json!({"field": f, "required": self.required.iter().any(|r| r == f)}))
            .collect();
        fields.extend(kept.iter().cloned());
        let (thank_you, consent) = if self.language == "en" {
            (
                json!({"en": optional(&self.thank_you)}),
                json!({"text_en": optional(&self.consent), "required": self.consent_required}),
            )
        } else {
            (
                json!({"zh": optional(&self.thank_you)}),
                json!({"text_zh": optional(&self.consent), "required": self.consent_required}),
            )
        };
        let origins: Vec<&str> = self
            .allowed_origins
            .lines()
            .map(str::trim)
            .filter(|o| !o.is_empty())
            .collect();
        json!({
            "name": self.name.trim(),
            "language": self.language.trim(),
            "fields": fields,
            "source": self.source.trim(),
            "thank_you": thank_you,
            "allowed_origins": origins,
            "consent": if self.consent.trim().is_empty() { Value::Null } else { consent },
            "active": self.active,
            "auto_reply": self.reply.body(),
        })
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
        .iter()
        .map(|f| FormRow {
            id: f["id"].as_i64().unwrap_or_default(),
            name: text_of(&f["name"]),
            path: text_of(&f["public_path"]),
            source: text_of(&f["source"]),
            active: f["active"].as_bool().unwrap_or_default(),
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
    match forms::create(&state.db, &user.actor, &form.body(&[]), state.clock.now()).await {
        Ok(created) => {
            let id = created["id"].as_i64().unwrap_or_default();
            Redirect::to(&format!("/settings/forms/{id}")).into_response()
        }
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
    let form = shown
        .sent
        .unwrap_or_else(|| WebForm::of_form(&stored.to_json()));
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
    let kept: Vec<Value> = match forms::get(&state.db, &user.actor, id).await {
        Ok(stored) => stored.to_json()["fields"]
            .as_array()
            .map(|fields| {
                fields
                    .iter()
                    .filter(|f| {
                        f["field"]
                            .as_str()
                            .is_some_and(|f| f.starts_with("custom."))
                    })
                    .cloned()
                    .collect()
            })
            .unwrap_or_default(),
        Err(e) => return store_error_page(Chrome::for_user(&user, "/settings/forms"), e),
    };
    match forms::update(
        &state.db,
        &user.actor,
        id,
        &form.body(&kept),
        state.clock.now(),
    )
    .await
    {
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
    match forms::preview_auto_reply(&form.reply.body(), form.name.trim(), &samples) {
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
    fn the_posted_form_becomes_the_apis_body_in_its_own_language() {
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
        let body = form.body(&[json!({"field": "custom.budget", "required": false})]);
        assert_eq!(
            body["fields"],
            json!([{"field": "name", "required": false}, {"field": "email", "required": true},
                   {"field": "custom.budget", "required": false}])
        );
        assert_eq!(body["thank_you"], json!({"en": "Thanks!"}));
        assert_eq!(
            body["allowed_origins"],
            json!(["https://a.example", "https://b.example"])
        );
        assert_eq!(body["consent"], Value::Null);
    }
}
