//! Every text of the playground, French first, English second, in one place.
//!
//! Components never write a sentence themselves: they ask [`Lang::t`] for a [`Text`].
//! Texts that carry values (counts, names) are functions of [`Lang`] next to the
//! enum. Never holds state.

use serde::{Deserialize, Serialize};

/// The language of the page. French by default: the course is in French.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Lang {
    #[default]
    Fr,
    En,
}

impl Lang {
    /// The `lang` attribute of the page (`fr`, `en`).
    pub fn code(self) -> &'static str {
        match self {
            Lang::Fr => "fr",
            Lang::En => "en",
        }
    }

    /// From a `lang` code; anything unknown is French.
    pub fn from_code(code: &str) -> Lang {
        match code {
            "en" => Lang::En,
            _ => Lang::Fr,
        }
    }

    /// The other language (what the switch button offers).
    pub fn other(self) -> Lang {
        match self {
            Lang::Fr => Lang::En,
            Lang::En => Lang::Fr,
        }
    }

    /// The text in this language.
    pub fn t(self, text: Text) -> &'static str {
        match self {
            Lang::Fr => text.fr(),
            Lang::En => text.en(),
        }
    }

    /// Picks between a French and an English form built by the caller.
    pub fn pick<T>(self, fr: T, en: T) -> T {
        match self {
            Lang::Fr => fr,
            Lang::En => en,
        }
    }
}

macro_rules! texts {
    ($($key:ident => $fr:expr, $en:expr;)*) => {
        /// A fixed text of the page.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum Text { $($key,)* }

        impl Text {
            /// Every text, for the test that none is empty.
            pub const ALL: &'static [Text] = &[$(Text::$key,)*];
            pub fn fr(self) -> &'static str { match self { $(Text::$key => $fr,)* } }
            pub fn en(self) -> &'static str { match self { $(Text::$key => $en,)* } }
        }
    };
}

texts! {
    Title => "quai — bac à sable", "quai — playground";
    Tagline => "Un backend simulé de quai, dans la page : modifiez, planifiez, appliquez, rejouez.",
        "quai's simulated backend, in the page: edit, plan, apply, replay.";
    SwitchLang => "English", "Français";
    Stack => "Pile (stack.toml)", "Stack (stack.toml)";
    Files => "Contextes de build", "Build contexts";
    NoFiles => "Aucune image construite : pas de contexte.", "No image is built: no context.";
    NewFile => "Nouveau fichier (chemin)", "New file (path)";
    Plan => "Planifier", "Plan";
    Apply => "Appliquer", "Apply";
    Destroy => "Détruire", "Destroy";
    Share => "Lien à partager", "Share link";
    LinkCopied => "Le lien est dans la barre d'adresse.", "The link is in the address bar.";
    PlanTitle => "Plan", "Plan";
    NoPlan => "Cliquez sur « Planifier » pour voir ce qui changerait.",
        "Click “Plan” to see what would change.";
    NoChanges => "Rien à faire : l'état simulé correspond à la pile.",
        "Nothing to do: the simulated state matches the stack.";
    StackError => "Erreur dans la pile", "Error in the stack";
    PlanFailed => "Impossible de planifier", "Cannot plan";
    ApplyFailed => "L'application a échoué", "Apply failed";
    Replay => "Rejouer l'application", "Step through the apply";
    First => "|◀ Début", "|◀ Start";
    Previous => "◀ Précédent", "◀ Previous";
    Next => "Suivant ▶", "Next ▶";
    Play => "▶ Lecture", "▶ Play";
    Pause => "❚❚ Pause", "❚❚ Pause";
    Last => "Fin ▶|", "End ▶|";
    NoRun => "Appliquez un plan pour rejouer ses événements un à un.",
        "Apply a plan to replay its events one by one.";
    History => "Historique des états", "History of states";
    Undo => "↶ Annuler", "↶ Undo";
    Redo => "↷ Rétablir", "↷ Redo";
    Initial => "État initial (vide)", "Initial state (empty)";
    ReturnHere => "Revenir ici", "Return here";
    ViewVm => "VM vs conteneurs", "VMs vs containers";
    ViewLayers => "Couches et cache", "Layers and cache";
    ViewLifecycle => "Cycle de vie", "Lifecycle";
    ViewNetwork => "Réseaux et volumes", "Networks and volumes";
    Lessons => "Leçons", "Lessons";
    FreePlay => "Libre", "Free play";
    Goal => "Objectif", "Goal";
    GoalMet => "Objectif atteint ✔", "Goal met ✔";
    GoalNotMet => "Objectif pas encore atteint", "Goal not met yet";
    VmSide => "Machines virtuelles", "Virtual machines";
    ContainerSide => "Conteneurs", "Containers";
    Hardware => "Matériel", "Hardware";
    HostOs => "OS hôte (noyau)", "Host OS (kernel)";
    Hypervisor => "Hyperviseur", "Hypervisor";
    GuestOs => "OS invité (noyau + distribution)", "Guest OS (kernel + distribution)";
    Engine => "Moteur de conteneurs (quai)", "Container engine (quai)";
    Boot => "Démarrage", "Boot";
    BootVm => "quelques minutes", "a few minutes";
    BootContainer => "quelques secondes", "a few seconds";
    Disk => "Disque", "Disk";
    Kernels => "Noyaux", "Kernels";
    VmCosts => "Coûts du cours : noyau ≈ 100 Mo, distribution ≥ 500 Mo, Alpine < 5 Mo ; démarrage en minutes (VM) contre secondes (conteneur). Côté conteneurs, une couche partagée par plusieurs images n'est stockée qu'une fois.",
        "The course's costs: a kernel ≈ 100 MB, a distribution ≥ 500 MB, Alpine < 5 MB; boot in minutes (VM) vs seconds (container). On the container side, a layer shared by several images is stored once.";
    NoApps => "La pile ne déclare aucun conteneur.", "The stack declares no container.";
    Tags => "Étiquettes", "Tags";
    CacheHit => "cache : réutilisée", "cache: hit";
    CacheMiss => "cache : reconstruite", "cache: miss";
    Pulled => "téléchargée", "pulled";
    Reused => "déjà présente (partagée)", "already present (shared)";
    Pending => "pas encore jouée", "not played yet";
    Untagged => "sans étiquette : version remplacée, encore dans le magasin", "untagged: a replaced version, still in the store";
    SharedLayer => "partagée avec", "shared with";
    NoImages => "Aucune image dans le magasin simulé : appliquez la pile.",
        "No image in the simulated store: apply the stack.";
    Container => "Conteneur", "Container";
    State => "État", "State";
    Transitions => "Transitions jouées", "Transitions played";
    NoContainers => "Aucun conteneur : appliquez la pile.", "No container: apply the stack.";
    Network => "Réseau", "Network";
    Absent => "absent", "absent";
    Volume => "Volume", "Volume";
    Reach => "Qui joint qui", "Who reaches whom";
    Survives => "Ce qui survit à un remplacement", "What survives a replace";
    SurvivesText => "Un volume nommé survit au remplacement et à la destruction du conteneur ; la couche inscriptible du conteneur est perdue.",
        "A named volume survives the replacement and destruction of the container; the container's writable layer is lost.";
    NoNetwork => "sans réseau déclaré", "no declared network";
    Kept => "conservé", "kept";
    Lost => "perdu", "lost";
    WritableLayer => "couche inscriptible", "writable layer";
    Kill => "Tuer (SIGKILL)", "Kill (SIGKILL)";
    Killed => "Tué hors de quai :", "Killed outside quai:";
    Restarts => "Politique de redémarrage", "Restart policy";
    WriteData => "Faire écrire des données par le conteneur", "Make the container write data";
    DataPresent => "données présentes dans", "data present in";
    DataAbsent => "aucune donnée dans", "no data in";
}

/// `3 créations, 1 modification, …`: the plan's summary line.
pub fn summary(lang: Lang, create: usize, update: usize, replace: usize, delete: usize) -> String {
    match lang {
        Lang::Fr => format!(
            "{create} à créer, {update} à modifier sur place, {replace} à remplacer, {delete} à supprimer"
        ),
        Lang::En => format!(
            "{create} to create, {update} to update in place, {replace} to replace, {delete} to delete"
        ),
    }
}

/// The verb of a plan action.
pub fn action(lang: Lang, action: quai_core::plan::Action) -> &'static str {
    use quai_core::plan::Action::*;
    match (lang, action) {
        (Lang::Fr, NoOp) => "inchangé",
        (Lang::Fr, Create) => "créer",
        (Lang::Fr, Update) => "modifier sur place",
        (Lang::Fr, Replace) => "remplacer",
        (Lang::Fr, Delete) => "supprimer",
        (Lang::En, a) => a.verb(),
    }
}

/// A container state, as the course names it.
pub fn status(lang: Lang, status: quai_core::event::ContainerStatus) -> &'static str {
    use quai_core::event::ContainerStatus::*;
    match (lang, status) {
        (Lang::Fr, Created) => "créé",
        (Lang::Fr, Running) => "en marche",
        (Lang::Fr, Restarting) => "redémarre",
        (Lang::Fr, Exited) => "arrêté",
        (Lang::Fr, Removed) => "supprimé",
        (Lang::En, s) => s.as_str(),
    }
}

/// Why a build step misses the cache, for people.
pub fn miss_reason(lang: Lang, reason: &quai_core::image::MissReason) -> String {
    use quai_core::image::MissReason::*;
    match lang {
        Lang::En => reason.to_string(),
        Lang::Fr => match reason {
            NotBuilt => "jamais construite".into(),
            BaseChanged => "l'image de base a changé".into(),
            InstructionChanged => "l'instruction a changé".into(),
            ContentChanged { files } if files.is_empty() => "le contenu copié a changé".into(),
            ContentChanged { files } => format!("le contenu copié a changé ({})", files.join(", ")),
            ParentRebuilt => "une étape précédente est reconstruite".into(),
            Evicted => "la couche n'est plus dans le cache".into(),
        },
    }
}

/// Why a step is in the plan, for people.
pub fn reason(lang: Lang, reason: &quai_core::plan::Reason) -> String {
    use quai_core::plan::Reason::*;
    match (lang, reason) {
        (Lang::Fr, New) => "absent de l'état : sera créé".into(),
        (Lang::En, New) => "not in the state: will be created".into(),
        (Lang::Fr, NotInStack) => "n'est plus dans la pile".into(),
        (Lang::En, NotInStack) => "no longer in the stack".into(),
        (
            _,
            Field {
                field,
                before,
                after,
                replaces,
            },
        ) => {
            let how = match (lang, replaces) {
                (Lang::Fr, true) => "force le remplacement",
                (Lang::Fr, false) => "sur place",
                (Lang::En, true) => "forces replacement",
                (Lang::En, false) => "in place",
            };
            format!(
                "{field}: {} → {} ({how})",
                short_digests(before),
                short_digests(after)
            )
        }
        (Lang::Fr, Drift { observed }) => format!("dérive : {}", drift_fr(*observed)),
        (Lang::En, Drift { observed }) => format!("drift: {observed}"),
        (Lang::Fr, Orphan { id }) => format!("orphelin {id} (apply interrompu)"),
        (Lang::En, Orphan { id }) => format!("orphan {id} (interrupted apply)"),
        (Lang::Fr, Dependency { address }) => format!("{address} est remplacé"),
        (Lang::En, Dependency { address }) => format!("{address} is replaced"),
        (Lang::Fr, Destroy) => "demandé par « Détruire »".into(),
        (Lang::En, Destroy) => "asked by “Destroy”".into(),
        (Lang::Fr, WritableLayerDropped) => {
            "la couche inscriptible du conteneur est perdue (ce qui n'est pas dans un volume)"
                .into()
        }
        (Lang::En, WritableLayerDropped) => {
            "the container's writable layer is dropped (whatever is not in a volume)".into()
        }
        (Lang::Fr, Kept) => "volume conservé (ses données restent)".into(),
        (Lang::En, Kept) => "volume kept (its data stays)".into(),
    }
}

/// What the backend shows, in French.
fn drift_fr(drift: quai_core::plan::Drift) -> String {
    use quai_core::plan::Drift;
    match drift {
        Drift::Removed => "supprimé hors de quai".into(),
        Drift::NotInStore => "n'est plus dans le stockage local (supprimée hors de quai)".into(),
        Drift::NeverStarted => "créé mais jamais démarré".into(),
        Drift::Exited { code, oom_killed } => {
            let code = code.map_or_else(|| "?".to_string(), |c| c.to_string());
            if oom_killed {
                format!("arrêté hors de quai (code {code}, tué : mémoire épuisée)")
            } else {
                format!("arrêté hors de quai (code {code})")
            }
        }
    }
}

/// `sha256:` and 64 hex digits become `sha256:` and 12, as ids are shown elsewhere.
pub fn short_digests(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find("sha256:") {
        let (head, tail) = rest.split_at(i + 7);
        out.push_str(head);
        let hex = tail.bytes().take_while(u8::is_ascii_hexdigit).count();
        if hex == 64 {
            out.push_str(&tail[..12]);
            out.push('…');
        } else {
            out.push_str(&tail[..hex]);
        }
        rest = &tail[hex..];
    }
    out.push_str(rest);
    out
}

/// One event of an apply, as a line of the replay.
pub fn event(lang: Lang, event: &quai_core::event::Event) -> String {
    use quai_core::event::Event::*;
    match event {
        StepStarted { address, action: a } => lang.pick(
            format!("▶ {address} : {}", action(lang, *a)),
            format!("▶ {address}: {}", action(lang, *a)),
        ),
        StepFinished {
            address,
            error: None,
            ..
        } => lang.pick(format!("✔ {address} : fait"), format!("✔ {address}: done")),
        StepFinished {
            address,
            error: Some(e),
            ..
        } => lang.pick(
            format!("✘ {address} : échec — {e}"),
            format!("✘ {address}: failed — {e}"),
        ),
        StepSkipped { address, because } => lang.pick(
            format!("⤼ {address} : sauté ({because} a échoué)"),
            format!("⤼ {address}: skipped ({because} failed)"),
        ),
        CacheHit {
            image,
            step,
            instruction,
        } => lang.pick(
            format!("{image} étape {step} « {instruction} » : cache réutilisé"),
            format!("{image} step {step} `{instruction}`: cache hit"),
        ),
        CacheMiss {
            image,
            step,
            instruction,
            reason,
        } => lang.pick(
            format!(
                "{image} étape {step} « {instruction} » : reconstruite, {}",
                miss_reason(lang, reason)
            ),
            format!(
                "{image} step {step} `{instruction}`: cache miss, {}",
                miss_reason(lang, reason)
            ),
        ),
        LayerBuilt {
            image,
            step,
            digest,
            bytes,
        } => lang.pick(
            format!(
                "{image} étape {step} : couche {} ({})",
                digest.short(),
                size(lang, *bytes)
            ),
            format!(
                "{image} step {step}: layer {} ({})",
                digest.short(),
                size(lang, *bytes)
            ),
        ),
        LayerPulled {
            reference,
            digest,
            bytes,
        } => lang.pick(
            format!(
                "{reference} : couche {} téléchargée ({})",
                digest.short(),
                size(lang, *bytes)
            ),
            format!(
                "{reference}: layer {} pulled ({})",
                digest.short(),
                size(lang, *bytes)
            ),
        ),
        LayerReused { reference, digest } => lang.pick(
            format!("{reference} : couche {} déjà présente", digest.short()),
            format!("{reference}: layer {} already present", digest.short()),
        ),
        ImageTagged { tag, digest } => lang.pick(
            format!("étiquette {tag} → {}", digest.short()),
            format!("tag {tag} → {}", digest.short()),
        ),
        ContainerChanged {
            address,
            from,
            to,
            exit_code,
            ..
        } => {
            let from = from.map(|s| status(lang, s)).unwrap_or("—");
            let code = exit_code.map(|c| format!(" ({c})")).unwrap_or_default();
            let colon = lang.pick(" :", ":");
            format!("{address}{colon} {from} → {}{code}", status(lang, *to))
        }
        VolumeCreated { address } => {
            lang.pick(format!("{address} créé"), format!("{address} created"))
        }
        VolumeRemoved { address } => {
            lang.pick(format!("{address} supprimé"), format!("{address} removed"))
        }
        NetworkCreated { address, subnet } => lang.pick(
            format!("{address} créé ({subnet})"),
            format!("{address} created ({subnet})"),
        ),
        NetworkRemoved { address } => {
            lang.pick(format!("{address} supprimé"), format!("{address} removed"))
        }
        Note {
            address: Some(a),
            message,
        } => format!("ℹ {a}: {message}"),
        Note {
            address: None,
            message,
        } => format!("ℹ {message}"),
    }
}

/// A size for people: `4.2 Mo` / `4.2 MB` (powers of 1000, as the course counts).
pub fn size(lang: Lang, bytes: u64) -> String {
    let (unit_fr, unit_en, div) = if bytes >= 1_000_000_000 {
        ("Go", "GB", 1e9)
    } else if bytes >= 1_000_000 {
        ("Mo", "MB", 1e6)
    } else if bytes >= 1_000 {
        ("ko", "kB", 1e3)
    } else {
        return lang.pick(format!("{bytes} o"), format!("{bytes} B"));
    };
    let value = bytes as f64 / div;
    let text = if value >= 100.0 {
        format!("{value:.0}")
    } else {
        format!("{value:.1}")
    };
    match lang {
        Lang::Fr => format!("{} {unit_fr}", text.replace('.', ",")),
        Lang::En => format!("{text} {unit_en}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_text_exists_in_both_languages_and_differs_where_it_should() {
        for text in Text::ALL {
            assert!(!text.fr().is_empty(), "{text:?} has no French");
            assert!(!text.en().is_empty(), "{text:?} has no English");
        }
        assert_ne!(Lang::Fr.t(Text::Apply), Lang::En.t(Text::Apply));
    }

    #[test]
    fn french_is_the_default_and_unknown_codes_fall_back_to_it() {
        assert_eq!(Lang::default(), Lang::Fr);
        assert_eq!(Lang::from_code("en"), Lang::En);
        assert_eq!(Lang::from_code("de"), Lang::Fr);
        assert_eq!(Lang::Fr.other(), Lang::En);
    }

    #[test]
    fn long_digests_are_shortened_in_reasons() {
        let d = format!("sha256:{}", "ab".repeat(32));
        assert_eq!(
            short_digests(&format!("build: {d} → x")),
            "build: sha256:abababababab… → x"
        );
        assert_eq!(short_digests("sha256:12"), "sha256:12");
    }

    #[test]
    fn drift_is_said_in_each_language() {
        use quai_core::plan::{Drift, Reason};
        let killed = Reason::Drift {
            observed: Drift::Exited {
                code: Some(137),
                oom_killed: false,
            },
        };
        assert_eq!(
            reason(Lang::Fr, &killed),
            "dérive : arrêté hors de quai (code 137)"
        );
        assert_eq!(
            reason(Lang::En, &killed),
            "drift: exited (137) outside quai"
        );
        let removed = Reason::Drift {
            observed: Drift::Removed,
        };
        assert_eq!(reason(Lang::Fr, &removed), "dérive : supprimé hors de quai");
    }

    #[test]
    fn sizes_use_the_decimal_units_of_each_language() {
        assert_eq!(size(Lang::Fr, 4_200_000), "4,2 Mo");
        assert_eq!(size(Lang::En, 4_200_000), "4.2 MB");
        assert_eq!(size(Lang::En, 512), "512 B");
        assert_eq!(size(Lang::Fr, 1_500_000_000), "1,5 Go");
        assert_eq!(size(Lang::En, 600_000_000), "600 MB");
    }
}
