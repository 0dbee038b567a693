//! A certificate holder's identity document (证件): the resident identity card, a passport,
//! or the mainland travel permits of Hong Kong, Macao and Taiwan residents. Only the
//! resident card carries a check digit (GB 11643); the others are checked for their shape.

use serde::{Deserialize, Serialize};
use strum::{EnumString, IntoStaticStr, VariantArray, VariantNames};

use super::{IdCardNumber, ValidationError, required, validated_string};

/// A passport number: 5 to 20 Latin letters and digits (ICAO 9303 allows up to 9 in the
/// machine-readable zone, but some states print longer numbers). Upper-cased.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
#[serde(try_from = "String", into = "String")]
pub struct PassportNumber(String);
validated_string!(PassportNumber);

impl PassportNumber {
    pub fn parse(s: &str) -> Result<Self, ValidationError> {
        let s = required(s)?.to_ascii_uppercase();
        if !(5..=20).contains(&s.len()) || !s.bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit()) {
            return Err(ValidationError::PassportFormat);
        }
        Ok(PassportNumber(s))
    }
}

/// 港澳居民来往内地通行证: `H` (Hong Kong) or `M` (Macao) and 8 digits, or 10 on permits
/// that count their renewals in two more digits.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
#[serde(try_from = "String", into = "String")]
pub struct HkMacaoPermitNumber(String);
validated_string!(HkMacaoPermitNumber);

impl HkMacaoPermitNumber {
    pub fn parse(s: &str) -> Result<Self, ValidationError> {
        let s = required(s)?.to_ascii_uppercase();
        let (head, digits) = s.split_at(s.chars().next().map_or(0, char::len_utf8));
        if !matches!(head, "H" | "M") || !matches!(digits.len(), 8 | 10) || !digits.bytes().all(|b| b.is_ascii_digit())
        {
            return Err(ValidationError::HkMacaoPermitFormat);
        }
        Ok(HkMacaoPermitNumber(s))
    }
}

/// 台湾居民来往大陆通行证: 8 digits (10 on permits that count their renewals).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
#[serde(try_from = "String", into = "String")]
pub struct TaiwanPermitNumber(String);
validated_string!(TaiwanPermitNumber);

impl TaiwanPermitNumber {
    pub fn parse(s: &str) -> Result<Self, ValidationError> {
        let s = required(s)?.to_owned();
        if !matches!(s.len(), 8 | 10) || !s.bytes().all(|b| b.is_ascii_digit()) {
            return Err(ValidationError::TaiwanPermitFormat);
        }
        Ok(TaiwanPermitNumber(s))
    }
}

/// Which document (证件类型).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, IntoStaticStr, EnumString, VariantArray, VariantNames)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum IdType {
    /// 居民身份证
    ResidentId,
    /// 护照
    Passport,
    /// 港澳居民来往内地通行证
    HkMacaoPermit,
    /// 台湾居民来往大陆通行证
    TaiwanPermit,
}

impl IdType {
    pub const ALL: [IdType; 4] = [IdType::ResidentId, IdType::Passport, IdType::HkMacaoPermit, IdType::TaiwanPermit];
    /// The document's name as printed on forms (Chinese).
    pub fn name_zh(self) -> &'static str {
        match self {
            IdType::ResidentId => "居民身份证",
            IdType::Passport => "护照",
            IdType::HkMacaoPermit => "港澳居民来往内地通行证",
            IdType::TaiwanPermit => "台湾居民来往大陆通行证",
        }
    }
}

/// An identity document whose number is valid for its type:
/// `{"type": "resident_id", "number": "11010519491231002X"}`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
#[serde(tag = "type", content = "number", rename_all = "snake_case")]
#[cfg_attr(target_arch = "wasm32", serde(try_from = "FlatIdDocument"))]
pub enum IdDocument {
    ResidentId(IdCardNumber),
    Passport(PassportNumber),
    HkMacaoPermit(HkMacaoPermitNumber),
    TaiwanPermit(TaiwanPermitNumber),
}

/// [`IdDocument`] as the browser app reads it (`serde(try_from)` on wasm only, as
/// `apply::FlatHolder`): the same JSON as one flat object, without the derived reader's
/// buffering for a number that comes before its type.
#[derive(Deserialize)]
pub struct FlatIdDocument {
    r#type: IdType,
    number: String,
}

impl TryFrom<FlatIdDocument> for IdDocument {
    type Error = ValidationError;

    fn try_from(d: FlatIdDocument) -> Result<IdDocument, ValidationError> {
        IdDocument::parse(d.r#type, &d.number)
    }
}

impl IdDocument {
    /// The number as typed, checked for the chosen type.
    pub fn parse(id_type: IdType, number: &str) -> Result<IdDocument, ValidationError> {
        Ok(match id_type {
            IdType::ResidentId => IdDocument::ResidentId(IdCardNumber::parse(number)?),
            IdType::Passport => IdDocument::Passport(PassportNumber::parse(number)?),
            IdType::HkMacaoPermit => IdDocument::HkMacaoPermit(HkMacaoPermitNumber::parse(number)?),
            IdType::TaiwanPermit => IdDocument::TaiwanPermit(TaiwanPermitNumber::parse(number)?),
        })
    }

    pub fn id_type(&self) -> IdType {
        match self {
            IdDocument::ResidentId(_) => IdType::ResidentId,
            IdDocument::Passport(_) => IdType::Passport,
            IdDocument::HkMacaoPermit(_) => IdType::HkMacaoPermit,
            IdDocument::TaiwanPermit(_) => IdType::TaiwanPermit,
        }
    }

    pub fn number(&self) -> &str {
        match self {
            IdDocument::ResidentId(n) => n.as_str(),
            IdDocument::Passport(n) => n.as_str(),
            IdDocument::HkMacaoPermit(n) => n.as_str(),
            IdDocument::TaiwanPermit(n) => n.as_str(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Named;
    use ValidationError::*;

    #[test]
    fn documents_by_type() {
        let cases: &[(IdType, &str, Result<&str, ValidationError>)] = &[
            (IdType::ResidentId, "11010519491231002x", Ok("11010519491231002X")),
            (IdType::ResidentId, "110105194912310021", Err(IdCardCheckDigit)),
            (IdType::ResidentId, "", Err(Required)),
            (IdType::Passport, " e12345678 ", Ok("E12345678")),
            (IdType::Passport, "E1234", Ok("E1234")),
            (IdType::Passport, "E123", Err(PassportFormat)),
            (IdType::Passport, "E1234-5678", Err(PassportFormat)),
            (IdType::Passport, "护照12345", Err(PassportFormat)),
            (IdType::HkMacaoPermit, "h12345678", Ok("H12345678")),
            (IdType::HkMacaoPermit, "M1234567801", Ok("M1234567801")),
            (IdType::HkMacaoPermit, "C12345678", Err(HkMacaoPermitFormat)),
            (IdType::HkMacaoPermit, "H1234567", Err(HkMacaoPermitFormat)),
            (IdType::HkMacaoPermit, "港12345678", Err(HkMacaoPermitFormat)),
            (IdType::TaiwanPermit, "12345678", Ok("12345678")),
            (IdType::TaiwanPermit, "1234567", Err(TaiwanPermitFormat)),
            (IdType::TaiwanPermit, "T1234567", Err(TaiwanPermitFormat)),
        ];
        for (t, input, want) in cases {
            let got = IdDocument::parse(*t, input);
            assert_eq!(got.as_ref().map(|d| d.number()), want.as_ref().map(|s| *s), "{t:?} {input:?}");
            if let Ok(d) = got {
                assert_eq!(d.id_type(), *t);
            }
        }
        for t in IdType::ALL {
            assert_eq!(IdType::parse(t.as_str()), Some(t));
        }
    }

    #[test]
    fn the_wire_form_names_the_type_and_checks_the_number_for_it() {
        let d = IdDocument::parse(IdType::Passport, "E12345678").unwrap();
        let json = serde_json::to_string(&d).unwrap();
        assert_eq!(json, r#"{"type":"passport","number":"E12345678"}"#);
        assert_eq!(serde_json::from_str::<IdDocument>(&json).unwrap(), d);
        // A passport number is no resident ID number.
        let err = serde_json::from_str::<IdDocument>(r#"{"type":"resident_id","number":"E12345678"}"#).unwrap_err();
        assert!(err.to_string().starts_with("id_card_length"), "{err}");
    }
}

crate::deserialize_by_name!(IdType);
