//! What the phone keeps: the list of [`ShieldFile`]s in `localStorage` under
//! [`KEY`]. Nothing in it opens a key or checks a PIN without the server (see
//! `shared::shield_keys`). The browser is asked once to keep it (`navigator.storage.persist()`).

use certdesk_shared::shield_keys::ShieldFile;

/// The `localStorage` key of the list.
pub const KEY: &str = "certdesk.shields";
/// Set once the browser was asked to keep the app's storage.
const PERSIST_ASKED: &str = "certdesk.persist-asked";

fn storage() -> Option<web_sys::Storage> {
    leptos::prelude::window().local_storage().ok().flatten()
}

/// The list in its stored form; anything unreadable counts as empty.
pub fn parse(json: Option<&str>) -> Vec<ShieldFile> {
    json.and_then(|j| serde_json::from_str(j).ok()).unwrap_or_default()
}

/// The list with `file` in it (in place of an earlier file of the same shield).
pub fn with(mut list: Vec<ShieldFile>, file: ShieldFile) -> Vec<ShieldFile> {
    list.retain(|f| f.shield_id != file.shield_id);
    list.push(file);
    list
}

/// The list without shield `id`.
pub fn without(mut list: Vec<ShieldFile>, id: &str) -> Vec<ShieldFile> {
    list.retain(|f| f.shield_id != id);
    list
}

pub fn load() -> Vec<ShieldFile> {
    parse(storage().and_then(|s| s.get_item(KEY).ok().flatten()).as_deref())
}

/// Writes the list; `Err` when the browser has no storage or refuses (full, private mode).
pub fn save(list: &[ShieldFile]) -> Result<(), ()> {
    let json = serde_json::to_string(list).map_err(drop)?;
    storage().ok_or(())?.set_item(KEY, &json).map_err(drop)
}

/// Asks the browser, once, not to evict the app's storage under pressure.
pub fn ask_persist() {
    let Some(s) = storage() else { return };
    if s.get_item(PERSIST_ASKED).ok().flatten().is_some() {
        return;
    }
    let _ = s.set_item(PERSIST_ASKED, "1");
    if let Ok(p) = leptos::prelude::window().navigator().storage().persist() {
        leptos::task::spawn_local(async move {
            let _ = wasm_bindgen_futures::JsFuture::from(p).await;
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(id: &str) -> ShieldFile {
        ShieldFile {
            shield_id: id.into(),
            uid: format!("u-{id}"),
            certificate_pem: String::new(),
            device_key: "ZGs=".into(),
            pin_salt: "c2FsdA==".into(),
            sealed_key: "a2V5".into(),
        }
    }

    #[test]
    fn one_file_per_shield_and_removal() {
        let list = with(with(Vec::new(), file("MS1")), file("MS2"));
        let mut again = file("MS1");
        again.uid = "newer".into();
        let list = with(list, again);
        assert_eq!(list.len(), 2);
        assert_eq!(list.iter().find(|f| f.shield_id == "MS1").map(|f| f.uid.as_str()), Some("newer"));
        let list = without(list, "MS2");
        assert_eq!(list.iter().map(|f| f.shield_id.as_str()).collect::<Vec<_>>(), ["MS1"]);
    }

    #[test]
    fn the_stored_form_round_trips_and_junk_is_empty() {
        let list = vec![file("MS1")];
        let json = serde_json::to_string(&list).unwrap();
        assert_eq!(parse(Some(&json)), list);
        assert!(parse(Some("not json")).is_empty());
        assert!(parse(None).is_empty());
    }
}
