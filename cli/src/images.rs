//! `quai images` (the backend's store, one row per tag: two tags of one image are two
//! rows with the same id) and `quai history IMAGE` (its layers, newest first).

use anyhow::anyhow;
use quai_core::image::{Digest, ImageInfo, Reference};

use crate::{exit, table, Ctx};

pub(crate) fn images(ctx: &mut Ctx<'_, '_>, no_trunc: bool, json: bool) -> anyhow::Result<i32> {
    let place = ctx.place()?;
    let images = place.backend.images()?;
    if json {
        writeln!(ctx.io.out, "{}", serde_json::to_string_pretty(&images)?)?;
        return Ok(exit::OK);
    }
    let mut rows = Vec::new();
    for image in images {
        let id = image_id(&image.digest, no_trunc);
        let size = table::size(image.size());
        if image.tags.is_empty() {
            rows.push(vec!["<none>".into(), "<none>".into(), id, size]);
            continue;
        }
        for tag in &image.tags {
            let (repository, tag) = split_tag(tag);
            rows.push(vec![repository, tag, id.clone(), size.clone()]);
        }
    }
    rows.sort();
    table::write(
        ctx.io.out,
        &["REPOSITORY", "TAG", "IMAGE ID", "SIZE"],
        &rows,
    )?;
    Ok(exit::OK)
}

pub(crate) fn history(ctx: &mut Ctx<'_, '_>, wanted: &str, no_trunc: bool) -> anyhow::Result<i32> {
    let place = ctx.place()?;
    let images = place.backend.images()?;
    let image = find(&images, wanted).ok_or_else(|| {
        anyhow!(
            "no image `{wanted}` in the {} backend's store: see `quai images`",
            place.backend.name()
        )
    })?;
    let rows: Vec<Vec<String>> = image
        .layers
        .iter()
        .rev()
        .map(|layer| {
            vec![
                image_id(&layer.digest, no_trunc),
                layer.created_by.clone(),
                table::size(layer.size),
            ]
        })
        .collect();
    table::write(ctx.io.out, &["LAYER", "CREATED BY", "SIZE"], &rows)?;
    Ok(exit::OK)
}

/// The first 12 hex digits, or the whole digest with `--no-trunc`.
fn image_id(digest: &Digest, no_trunc: bool) -> String {
    if no_trunc {
        digest.to_string()
    } else {
        digest.hex()[..12].to_string()
    }
}

/// `docker.io/library/busybox:1.36` → (`docker.io/library/busybox`, `1.36`); a name
/// with no tag has tag `<none>`. A `:` before the last `/` is a registry's port.
fn split_tag(tag: &str) -> (String, String) {
    let name_start = tag.rfind('/').map_or(0, |i| i + 1);
    match tag[name_start..].rfind(':') {
        Some(i) => (
            tag[..name_start + i].to_string(),
            tag[name_start + i + 1..].to_string(),
        ),
        None => (tag.to_string(), "<none>".to_string()),
    }
}

/// The image named by a tag (as written, or with the registry's defaults filled in) or
/// by its id or the start of it.
fn find<'a>(images: &'a [ImageInfo], wanted: &str) -> Option<&'a ImageInfo> {
    let by_tag = |wanted: &str| images.iter().find(|i| i.tags.iter().any(|t| t == wanted));
    let by_id = || {
        let hex = wanted.strip_prefix("sha256:").unwrap_or(wanted);
        if hex.len() < 4 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        images.iter().find(|i| i.digest.hex().starts_with(hex))
    };
    let by_reference = || {
        let wanted: Reference = wanted.parse().ok()?;
        images.iter().find(|i| {
            i.tags
                .iter()
                .any(|t| t.parse::<Reference>().ok().as_ref() == Some(&wanted))
        })
    };
    by_tag(wanted).or_else(by_id).or_else(by_reference)
}

#[cfg(test)]
mod tests {
    use super::*;
    use quai_core::image::ImageConfig;

    #[test]
    fn tags_split_at_the_last_colon_of_the_name() {
        assert_eq!(
            split_tag("docker.io/library/busybox:1.36"),
            ("docker.io/library/busybox".into(), "1.36".into())
        );
        assert_eq!(
            split_tag("localhost:5000/app/api"),
            ("localhost:5000/app/api".into(), "<none>".into())
        );
        assert_eq!(
            split_tag("app/api:latest"),
            ("app/api".into(), "latest".into())
        );
    }

    #[test]
    fn an_image_is_found_by_tag_or_by_the_start_of_its_id() {
        let image = ImageInfo {
            digest: Digest::of(b"image"),
            layers: vec![],
            config: ImageConfig::default(),
            tags: vec!["app/api:latest".into()],
        };
        let images = [image.clone()];
        assert_eq!(find(&images, "app/api:latest"), Some(&image));
        assert_eq!(find(&images, &image.digest.hex()[..8]), Some(&image));
        assert_eq!(find(&images, &image.digest.to_string()), Some(&image));
        assert_eq!(find(&images, "abc"), None);
    }
}
