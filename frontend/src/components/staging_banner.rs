//! "测试环境" across the top of every page of a staging server (a public test deployment
//! running the sandboxes); `GET /api/health` says whether this is one.

use crate::i18n::td_string;
use certdesk_shared::endpoint;
use leptos::prelude::*;

use crate::components::tr;
use crate::i18n::use_i18n;

#[component]
pub fn StagingBanner() -> impl IntoView {
    let i18n = use_i18n();
    let (staging, set_staging) = signal(false);
    leptos::task::spawn_local(async move {
        if let Ok(h) = crate::api::call::<endpoint::Health>(&[], &(), i18n.get_locale_untracked()).await {
            set_staging.set(h.staging);
        }
    });
    move || {
        staging
            .get()
            .then(|| view! { <p class="staging-banner" role="note">{tr(|l| td_string!(l, staging_banner))}</p> })
    }
}
