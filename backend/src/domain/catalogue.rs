//! The catalogue (seed 004 §3.1.1): projects (项目), their certificate types with the
//! profile the CA issues, the media each is sold on, the documents step ③ asks for, and the
//! validity periods with their prices. Administrators keep it; every change is audited in
//! the change's own transaction.
//! Drafts keep the price they were started with; a type's profile never changes once made.

use certdesk_shared::apply::{
    Catalogue, CertificateType, DocumentKind, Medium, NewType, Project, TypeSettings, ValidityOption,
};
use certdesk_shared::certificate::CertificateProfile;
use certdesk_shared::{ErrorCode, FieldError, ValidationError};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, SqlErr,
    TransactionTrait,
};

use super::audit::{self, AuditKey, Event};
use super::request::billing_of;
use super::{already_exists, exec, invalid, new_id};
use crate::entity::{account, catalogue_project, catalogue_type, catalogue_validity};
use crate::error::AppError;
use certdesk_shared::Named;

/// The demo catalogue written on first start: project "RA测试专用" with the three types of
/// the seeds, every medium, one to three years.
pub async fn seed_catalogue(db: &(impl ConnectionTrait + TransactionTrait)) -> Result<(), AppError> {
    if catalogue_project::Entity::find().count(db).await? > 0 {
        return Ok(());
    }
    // All or nothing: a crash half-way must not leave a project without its types.
    let txn = crate::db::begin_write(db).await?;
    let db = &txn;
    let project = "ra-test";
    let insert = catalogue_project::Entity::insert(catalogue_project::ActiveModel {
        id: Set(project.into()),
        name: Set("RA测试专用".into()),
        position: Set(1),
    })
    .exec(db)
    .await;
    match insert {
        Ok(_) => {}
        // Another server seeded it at the same moment.
        Err(e) if matches!(e.sql_err(), Some(SqlErr::UniqueConstraintViolation(_))) => return Ok(()),
        Err(e) => return Err(e.into()),
    }
    let all_docs = "business_licence,operator_id,other";
    let types = [
        ("org", "机构证书", CertificateProfile::OrgSign, all_docs),
        ("legal", "法人证书", CertificateProfile::LegalSign, all_docs),
        ("personal", "个人证书", CertificateProfile::PersonalSign, "operator_id"),
    ];
    for (i, (id, name, profile, docs)) in types.into_iter().enumerate() {
        catalogue_type::Entity::insert(catalogue_type::ActiveModel {
            id: Set(id.into()),
            project_id: Set(project.into()),
            name: Set(name.into()),
            profile: Set(profile.as_str().into()),
            media: Set("ukey,pc_shield,mobile_shield".into()),
            documents: Set(docs.into()),
            position: Set(i as i32),
            renewal_review: Set(false),
            reissue_price_fen: Set(REISSUE_PRICE_FEN),
        })
        .exec(db)
        .await?;
        for (years, price) in [(1, 30_000), (2, 54_000), (3, 78_000)] {
            catalogue_validity::Entity::insert(catalogue_validity::ActiveModel {
                id: Set(format!("{id}-{years}y")),
                type_id: Set(id.into()),
                years: Set(years),
                price_fen: Set(price),
                position: Set(years),
            })
            .exec(db)
            .await?;
        }
    }
    txn.commit().await?;
    Ok(())
}

fn type_view(t: &catalogue_type::Model, validity: &[catalogue_validity::Model]) -> CertificateType {
    CertificateType {
        id: t.id.clone(),
        name: t.name.clone(),
        // Written only from `CertificateProfile::code`.
        profile: CertificateProfile::parse(&t.profile).unwrap_or(CertificateProfile::OrgSign),
        media: t.media.split(',').filter_map(Medium::parse).collect(),
        validity: validity
            .iter()
            .filter(|v| v.type_id == t.id)
            .map(|v| ValidityOption { id: v.id.clone(), years: v.years as u32, price_fen: v.price_fen })
            .collect(),
        documents: t.documents.split(',').filter_map(DocumentKind::parse).collect(),
        renewal_review: t.renewal_review,
        reissue_price_fen: t.reissue_price_fen,
    }
}

/// The catalogue as the customer sees it.
pub async fn catalogue(db: &impl ConnectionTrait, a: &account::Model) -> Result<Catalogue, AppError> {
    // A type is on sale once it has a validity period; a project once it has such a type.
    let mut projects = full_catalogue(db).await?;
    for p in &mut projects {
        p.types.retain(|t| !t.validity.is_empty() && !t.media.is_empty());
    }
    projects.retain(|p| !p.types.is_empty());
    Ok(Catalogue { projects, billing: billing_of(&a.billing_mode) })
}

/// Administrators change a price. Drafts keep the price they were started with.
pub async fn set_price(
    db: &(impl ConnectionTrait + TransactionTrait),
    key: &AuditKey,
    actor: &str,
    validity_id: &str,
    price_fen: i64,
    ip: &str,
) -> Result<ValidityOption, AppError> {
    invalid(certdesk_shared::apply::check_price("price_fen", price_fen))?;
    let v = catalogue_validity::Entity::find_by_id(validity_id.to_owned()).one(db).await?.ok_or(ErrorCode::NotFound)?;
    let txn = crate::db::begin_write(db).await?;
    exec(
        &txn,
        "UPDATE catalogue_validity SET price_fen = $2 WHERE id = $1",
        vec![v.id.clone().into(), price_fen.into()],
    )
    .await?;
    let detail = serde_json::json!({ "from": v.price_fen, "to": price_fen });
    audit::append(&txn, key, Event { actor, action: "price_changed", subject: &v.id, ip, detail }).await?;
    txn.commit().await?;
    Ok(ValidityOption { id: v.id, years: v.years as u32, price_fen })
}

/// A new type's 补办价格 until administrators set another: the seed's ¥50 (seed 002 §2.2).
pub const REISSUE_PRICE_FEN: i64 = 5000;

/// Administrators set a type's 补办价格 (证书补办 / 密钥恢复). Reissue drafts keep the price
/// they were started with.
pub async fn set_reissue_price(
    db: &(impl ConnectionTrait + TransactionTrait),
    key: &AuditKey,
    actor: &str,
    type_id: &str,
    price_fen: i64,
    ip: &str,
) -> Result<CertificateType, AppError> {
    invalid(certdesk_shared::apply::check_price("price_fen", price_fen))?;
    let t = catalogue_type::Entity::find_by_id(type_id.to_owned()).one(db).await?.ok_or(ErrorCode::NotFound)?;
    let txn = crate::db::begin_write(db).await?;
    exec(
        &txn,
        "UPDATE catalogue_type SET reissue_price_fen = $2 WHERE id = $1",
        vec![t.id.clone().into(), price_fen.into()],
    )
    .await?;
    let detail = serde_json::json!({ "from": t.reissue_price_fen, "to": price_fen });
    audit::append(&txn, key, Event { actor, action: "reissue_price_changed", subject: &t.id, ip, detail }).await?;
    txn.commit().await?;
    let validity = catalogue_validity::Entity::find()
        .filter(catalogue_validity::Column::TypeId.eq(t.id.clone()))
        .order_by_asc(catalogue_validity::Column::Position)
        .all(db)
        .await?;
    Ok(type_view(&catalogue_type::Model { reissue_price_fen: price_fen, ..t }, &validity))
}

/// Administrators put another validity period on sale for a type.
pub async fn add_validity(
    db: &(impl ConnectionTrait + TransactionTrait),
    key: &AuditKey,
    actor: &str,
    type_id: &str,
    years: u32,
    price_fen: i64,
    ip: &str,
) -> Result<ValidityOption, AppError> {
    let mut errors = certdesk_shared::apply::check_price("price_fen", price_fen);
    if !(1..=5).contains(&years) {
        errors.push(FieldError { field: "years".into(), error: ValidationError::OutOfRange });
    }
    invalid(errors)?;
    let t = catalogue_type::Entity::find_by_id(type_id.to_owned()).one(db).await?.ok_or(ErrorCode::NotFound)?;
    let id = format!("{}-{years}y", t.id);
    let txn = crate::db::begin_write(db).await?;
    catalogue_validity::Entity::insert(catalogue_validity::ActiveModel {
        id: Set(id.clone()),
        type_id: Set(t.id.clone()),
        years: Set(years as i32),
        price_fen: Set(price_fen),
        position: Set(years as i32),
    })
    .exec(&txn)
    .await
    .map_err(already_exists)?;
    let detail = serde_json::json!({ "type": t.id, "years": years, "price": price_fen });
    audit::append(&txn, key, Event { actor, action: "validity_added", subject: &id, ip, detail }).await?;
    txn.commit().await?;
    Ok(ValidityOption { id, years, price_fen })
}

/// The whole catalogue, for administrators.
pub async fn full_catalogue(db: &impl ConnectionTrait) -> Result<Vec<Project>, AppError> {
    let projects = catalogue_project::Entity::find().order_by_asc(catalogue_project::Column::Position).all(db).await?;
    let types = catalogue_type::Entity::find().order_by_asc(catalogue_type::Column::Position).all(db).await?;
    let validity =
        catalogue_validity::Entity::find().order_by_asc(catalogue_validity::Column::Position).all(db).await?;
    Ok(projects
        .into_iter()
        .map(|p| Project {
            types: types.iter().filter(|t| t.project_id == p.id).map(|t| type_view(t, &validity)).collect(),
            id: p.id,
            name: p.name,
        })
        .collect())
}

/// Administrators open a new project.
pub async fn add_project(
    db: &(impl ConnectionTrait + TransactionTrait),
    key: &AuditKey,
    actor: &str,
    name: &str,
    ip: &str,
) -> Result<Project, AppError> {
    invalid(certdesk_shared::apply::NewProject { name: name.to_owned() }.check())?;
    let position = catalogue_project::Entity::find().count(db).await? as i32 + 1;
    let id = new_id();
    // The change and its audit row together.
    let txn = crate::db::begin_write(db).await?;
    catalogue_project::Entity::insert(catalogue_project::ActiveModel {
        id: Set(id.clone()),
        name: Set(name.to_owned()),
        position: Set(position),
    })
    .exec(&txn)
    .await
    .map_err(already_exists)?;
    let detail = serde_json::json!({ "name": name });
    audit::append(&txn, key, Event { actor, action: "catalogue_project_added", subject: &id, ip, detail }).await?;
    txn.commit().await?;
    Ok(Project { id, name: name.to_owned(), types: Vec::new() })
}

/// Administrators add a certificate type to a project. Customers see it once a validity
/// period is on sale.
pub async fn add_type(
    db: &(impl ConnectionTrait + TransactionTrait),
    key: &AuditKey,
    actor: &str,
    project_id: &str,
    new: &NewType,
    ip: &str,
) -> Result<CertificateType, AppError> {
    let s = &new.settings;
    invalid(s.check())?;
    let project =
        catalogue_project::Entity::find_by_id(project_id.to_owned()).one(db).await?.ok_or(ErrorCode::NotFound)?;
    let position = catalogue_type::Entity::find()
        .filter(catalogue_type::Column::ProjectId.eq(project.id.clone()))
        .count(db)
        .await? as i32;
    let t = catalogue_type::Model {
        id: new_id(),
        project_id: project.id,
        name: s.name.clone(),
        profile: new.profile.as_str().into(),
        media: s.media_codes(),
        documents: s.document_codes(),
        position,
        renewal_review: s.renewal_review,
        reissue_price_fen: REISSUE_PRICE_FEN,
    };
    let txn = crate::db::begin_write(db).await?;
    catalogue_type::Entity::insert(catalogue_type::ActiveModel::from(t.clone()))
        .exec(&txn)
        .await
        .map_err(already_exists)?;
    let detail = serde_json::json!({ "project": t.project_id, "name": t.name, "profile": t.profile, "media": t.media, "documents": t.documents });
    audit::append(&txn, key, Event { actor, action: "catalogue_type_added", subject: &t.id, ip, detail }).await?;
    txn.commit().await?;
    Ok(type_view(&t, &[]))
}

/// Administrators rename a type or change its media and documents. Drafts that chose a
/// medium no longer sold are asked to choose again at submission; the documents asked for
/// are the type's at submission.
pub async fn change_type(
    db: &(impl ConnectionTrait + TransactionTrait),
    key: &AuditKey,
    actor: &str,
    type_id: &str,
    s: &TypeSettings,
    ip: &str,
) -> Result<CertificateType, AppError> {
    invalid(s.check())?;
    let t = catalogue_type::Entity::find_by_id(type_id.to_owned()).one(db).await?.ok_or(ErrorCode::NotFound)?;
    let (media, documents) = (s.media_codes(), s.document_codes());
    let txn = crate::db::begin_write(db).await?;
    exec(
        &txn,
        "UPDATE catalogue_type SET name = $2, media = $3, documents = $4, renewal_review = $5 WHERE id = $1",
        vec![
            t.id.clone().into(),
            s.name.clone().into(),
            media.clone().into(),
            documents.clone().into(),
            s.renewal_review.into(),
        ],
    )
    .await
    .map_err(already_exists)?;
    let detail = serde_json::json!({
        "from": { "name": t.name, "media": t.media, "documents": t.documents, "renewal_review": t.renewal_review },
        "to": { "name": s.name, "media": media, "documents": documents, "renewal_review": s.renewal_review },
    });
    audit::append(&txn, key, Event { actor, action: "catalogue_type_changed", subject: &t.id, ip, detail }).await?;
    txn.commit().await?;
    let validity = catalogue_validity::Entity::find()
        .filter(catalogue_validity::Column::TypeId.eq(t.id.clone()))
        .order_by_asc(catalogue_validity::Column::Position)
        .all(db)
        .await?;
    Ok(type_view(
        &catalogue_type::Model { name: s.name.clone(), media, documents, renewal_review: s.renewal_review, ..t },
        &validity,
    ))
}
