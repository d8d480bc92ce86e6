//! The course's scenarios: each a stack with its files, a short text, and a goal checked
//! against the simulated state and the events the simulation told (never against
//! text on the page).
//!
//! Pure data and pure checks.

use std::collections::BTreeMap;

use quai_core::address::Address;
use quai_core::event::{ContainerStatus, Event};
use quai_core::image::MissReason;
use quai_core::stack::Stack;

use crate::i18n::Lang;
use crate::sandbox::Sandbox;
use crate::store::{Deed, Snapshot};

/// What a goal looks at.
pub struct Progress<'a> {
    /// The stack as parsed now.
    pub stack: &'a Stack,
    /// The sandbox at the shown point of the history.
    pub sandbox: &'a Sandbox,
    /// The history up to the shown point, oldest first (the empty start included).
    pub history: &'a [std::rc::Rc<Snapshot>],
}

impl Progress<'_> {
    /// The events of each deed, oldest first.
    fn runs(&self) -> impl Iterator<Item = &[Event]> {
        self.history.iter().map(|s| s.events.as_slice())
    }
}

/// A file the lesson lets the student's container write, as its program would.
pub struct DataFile {
    /// The container (first replica) that writes.
    pub container: &'static str,
    pub path: &'static str,
    pub content: &'static str,
}

/// A scenario of the course.
pub struct Lesson {
    /// Its id in links (`cache`).
    pub id: &'static str,
    pub title: [&'static str; 2],
    /// What it shows, and what to do.
    pub text: [&'static str; 2],
    /// The goal, in words.
    pub goal: [&'static str; 2],
    pub stack: &'static str,
    /// Files of the build contexts: (path from the stack's folder, content).
    pub files: &'static [(&'static str, &'static str)],
    /// Whether the goal is met.
    pub check: fn(&Progress<'_>) -> bool,
    /// A file the page can make the container write (stateful lessons).
    pub data: Option<DataFile>,
}

impl Lesson {
    pub fn title(&self, lang: Lang) -> &'static str {
        lang.pick(self.title[0], self.title[1])
    }
    pub fn text(&self, lang: Lang) -> &'static str {
        lang.pick(self.text[0], self.text[1])
    }
    pub fn goal(&self, lang: Lang) -> &'static str {
        lang.pick(self.goal[0], self.goal[1])
    }
    pub fn files(&self) -> BTreeMap<String, String> {
        self.files
            .iter()
            .map(|(p, t)| (p.to_string(), t.to_string()))
            .collect()
    }
}

/// The lesson with this id.
pub fn find(id: &str) -> Option<&'static Lesson> {
    LESSONS.iter().find(|l| l.id == id)
}

/// Running containers of the stack, by address.
fn running(p: &Progress<'_>) -> Vec<Address> {
    let Ok(observed) = p.sandbox.observe_stack(&p.stack.name) else {
        return Vec::new();
    };
    observed
        .containers
        .values()
        .filter(|c| c.status == ContainerStatus::Running)
        .map(|c| c.address.clone())
        .collect()
}

/// Cache: a later build took `RUN npm install` from the cache while a COPY after it
/// ran because the app's files changed.
fn cache_goal(p: &Progress<'_>) -> bool {
    p.runs().any(|events| {
        let hit = events.iter().any(
            |e| matches!(e, Event::CacheHit { instruction, .. } if instruction.starts_with("RUN npm install")),
        );
        let miss = events.iter().any(|e| {
            matches!(e, Event::CacheMiss { reason: MissReason::ContentChanged { .. }, instruction, .. }
                if instruction.starts_with("COPY . "))
        });
        hit && miss
    })
}

/// Volumes: the data written by `container.db` is still there after the container was
/// replaced (it only is when it was written into a volume).
fn volume_goal(p: &Progress<'_>) -> bool {
    let Some(data) = &VOLUMES_DATA else {
        return false;
    };
    let writers: Vec<&str> = p
        .history
        .iter()
        .filter_map(|s| match &s.deed {
            Deed::Write { id } => Some(id.as_str()),
            _ => None,
        })
        .collect();
    let db = Address::container(data.container, 0);
    let Some(now) = p
        .sandbox
        .state(&p.stack.name)
        .resources
        .get(&db)
        .map(|r| r.id.clone())
    else {
        return false;
    };
    let replaced_since_write = !writers.is_empty() && !writers.contains(&now.as_str());
    replaced_since_write && p.sandbox.read_file(&now, data.path).is_some()
}

const VOLUMES_DATA: Option<DataFile> = Some(DataFile {
    container: "db",
    path: "/var/lib/mysql/blog.db",
    content: "article 1 : Bonjour\n",
});

/// LAMP: web, app and db run, and web shares no network with db.
fn lamp_goal(p: &Progress<'_>) -> bool {
    let up = running(p);
    let all_up = ["web", "app", "db"]
        .iter()
        .all(|n| up.contains(&Address::container(*n, 0)));
    let nets = |n: &str| {
        p.stack
            .containers
            .get(n)
            .map(|c| c.networks.clone())
            .unwrap_or_default()
    };
    let web = nets("web");
    let apart = nets("db").iter().all(|n| !web.contains(n));
    all_up && apart
}

/// Tags: two tags in the store name one image.
fn tags_goal(p: &Progress<'_>) -> bool {
    p.sandbox.images().iter().any(|i| i.tags.len() >= 2)
}

/// Restart: a container went through `restarting`, and one killed outside quai runs
/// again after a later apply.
fn restart_goal(p: &Progress<'_>) -> bool {
    let restarted = p.runs().any(|events| {
        events.iter().any(|e| {
            matches!(
                e,
                Event::ContainerChanged {
                    to: ContainerStatus::Restarting,
                    ..
                }
            )
        })
    });
    // The last kill, and whether an apply came after it with that container running.
    let healed = p
        .history
        .iter()
        .enumerate()
        .rev()
        .find_map(|(i, s)| match &s.deed {
            Deed::Kill { address } => Some((i, address)),
            _ => None,
        })
        .is_some_and(|(i, address)| {
            p.history[i + 1..].iter().any(|s| s.deed == Deed::Apply) && running(p).contains(address)
        });
    restarted && healed
}

/// Versions: a pull reused layers already in the store.
fn versions_goal(p: &Progress<'_>) -> bool {
    p.runs().any(|events| {
        events
            .iter()
            .any(|e| matches!(e, Event::LayerReused { .. }))
    })
}

/// The lessons, in the order of the course. Their images are those of the simulated
/// registry (busybox, alpine, debian, nginx).
pub static LESSONS: [Lesson; 6] = [
    Lesson {
        id: "cache",
        title: ["Le cache et package.json", "The cache and package.json"],
        text: [
            "Le Dockerfile copie package.json seul, installe les dépendances, puis copie le reste. Appliquez une première fois : tout est construit. Modifiez ensuite server.js et appliquez à nouveau : « RUN npm install » vient du cache, seules les couches à partir de « COPY . /app/ » sont reconstruites. Modifiez package.json : cette fois npm install est rejoué.",
            "The Dockerfile copies package.json alone, installs the dependencies, then copies the rest. Apply once: everything is built. Then change server.js and apply again: “RUN npm install” comes from the cache, only the layers from “COPY . /app/” on are rebuilt. Change package.json: this time npm install runs again.",
        ],
        goal: [
            "Une reconstruction où « RUN npm install » vient du cache et « COPY . /app/ » est reconstruite parce que server.js a changé.",
            "A rebuild where “RUN npm install” comes from the cache and “COPY . /app/” is rebuilt because server.js changed.",
        ],
        stack: r#"[stack]
name = "cours"

[images.web]
context = "web"

[containers.web]
image = "web"
ports = ["8080:3000"]
"#,
        files: &[
            (
                "web/Dockerfile",
                "FROM alpine:3.20\nRUN apk add --no-cache nodejs npm\nWORKDIR /app\nCOPY package.json /app/\nRUN npm install\nCOPY . /app/\nCMD [\"node\", \"server.js\"]\n",
            ),
            (
                "web/package.json",
                "{\n  \"name\": \"web\",\n  \"dependencies\": { \"express\": \"^4.19.0\" }\n}\n",
            ),
            (
                "web/server.js",
                "const express = require(\"express\");\nconst app = express();\napp.get(\"/\", (req, res) => res.send(\"Bonjour !\"));\napp.listen(3000);\n",
            ),
        ],
        check: cache_goal,
        data: None,
    },
    Lesson {
        id: "volumes",
        title: ["Sans état ou avec état", "Stateless vs stateful"],
        text: [
            "Une base de données écrit dans /var/lib/mysql. Appliquez, faites écrire des données à db, puis changez DB_NAME (ce qui remplace le conteneur) et appliquez : sans volume, les données étaient dans la couche inscriptible du conteneur et sont perdues. Ajoutez volumes = [\"data:/var/lib/mysql\"] à db et recommencez : le volume survit au remplacement.",
            "A database writes to /var/lib/mysql. Apply, make db write some data, then change DB_NAME (which replaces the container) and apply: without a volume, the data lived in the container's writable layer and is lost. Add volumes = [\"data:/var/lib/mysql\"] to db and do it again: the volume survives the replace.",
        ],
        goal: [
            "Les données écrites par db sont encore là après un remplacement du conteneur.",
            "The data db wrote is still there after the container was replaced.",
        ],
        stack: r#"[stack]
name = "cours"

[volumes.data]

[containers.db]
image = "debian:12"
command = ["mariadbd"]
env = { DB_NAME = "blog" }
"#,
        files: &[],
        check: volume_goal,
        data: VOLUMES_DATA,
    },
    Lesson {
        id: "lamp",
        title: ["Une application à trois conteneurs", "A three-container app"],
        text: [
            "Un serveur web (nginx), une application PHP et une base de données, chacun dans son conteneur. Le réseau « front » relie web et app, le réseau « back » relie app et db : le serveur web ne peut pas joindre la base. Regardez la vue « Réseaux et volumes ».",
            "A web server (nginx), a PHP application and a database, each in its container. Network “front” joins web and app, network “back” joins app and db: the web server cannot reach the database. Look at the “Networks and volumes” view.",
        ],
        goal: [
            "Les trois conteneurs tournent, et web ne partage aucun réseau avec db.",
            "The three containers run, and web shares no network with db.",
        ],
        stack: r#"[stack]
name = "lamp"

[volumes.dbdata]

[networks.front]

[networks.back]

[containers.db]
image = "debian:12"
command = ["mariadbd"]
volumes = ["dbdata:/var/lib/mysql"]
networks = ["back"]

[containers.app]
image = "alpine:3.20"
command = ["php-fpm83", "-F"]
networks = ["front", "back"]
depends_on = ["db"]

[containers.web]
image = "nginx:1.27"
ports = ["8080:80"]
networks = ["front"]
depends_on = ["app"]
"#,
        files: &[],
        check: lamp_goal,
        data: None,
    },
    Lesson {
        id: "tags",
        title: ["Deux étiquettes, une image", "Two tags, one image"],
        text: [
            "Une étiquette est un nom pour un condensat (digest). alpine:3.20 et alpine:latest désignent aujourd'hui la même image : appliquez, puis regardez la vue « Couches et cache » — une seule image, deux étiquettes, des couches téléchargées une seule fois.",
            "A tag is a name for a digest. alpine:3.20 and alpine:latest name the same image today: apply, then look at the “Layers and cache” view — one image, two tags, layers pulled once.",
        ],
        goal: [
            "Deux étiquettes du magasin désignent la même image.",
            "Two tags of the store name the same image.",
        ],
        stack: r#"[stack]
name = "cours"

[containers.pinned]
image = "alpine:3.20"
command = ["sleep", "infinity"]

[containers.moving]
image = "alpine:latest"
command = ["sleep", "infinity"]
"#,
        files: &[],
        check: tags_goal,
        data: None,
    },
    Lesson {
        id: "versions",
        title: ["Une deuxième version partage sa base", "A second version shares its base"],
        text: [
            "Appliquez : nginx:1.25 est téléchargée, couche par couche. Changez ensuite l'image en nginx:1.27 et appliquez : la base Debian et les scripts d'entrée sont les mêmes couches, déjà présentes ; seule la couche des paquets nginx est téléchargée.",
            "Apply: nginx:1.25 is pulled, layer by layer. Then change the image to nginx:1.27 and apply: the Debian base and the entrypoint scripts are the same layers, already present; only the nginx packages layer is pulled.",
        ],
        goal: [
            "Un téléchargement a réutilisé des couches déjà présentes.",
            "A pull reused layers already present.",
        ],
        stack: r#"[stack]
name = "cours"

[containers.web]
image = "nginx:1.25"
ports = ["8080:80"]
"#,
        files: &[],
        check: versions_goal,
        data: None,
    },
    Lesson {
        id: "restart",
        title: ["Cycle de vie et redémarrage", "Lifecycle and restarts"],
        text: [
            "Un conteneur vit : créé, en marche, arrêté, supprimé. « worker » échoue dès son lancement (exit 1) : avec restart = \"on-failure\", il passe en « redémarre ». « web » tourne : tuez-le dans la vue « Cycle de vie » (comme un plantage hors de quai), puis planifiez : quai voit la dérive et l'application le relance.",
            "A container lives: created, running, exited, removed. “worker” fails as soon as it starts (exit 1): with restart = \"on-failure\" it goes to “restarting”. “web” runs: kill it in the “Lifecycle” view (as a crash outside quai), then plan: quai sees the drift and apply brings it back.",
        ],
        goal: [
            "Un conteneur est passé par « redémarre », et web, tué hors de quai, tourne de nouveau après une application.",
            "A container went through “restarting”, and web, killed outside quai, runs again after an apply.",
        ],
        stack: r#"[stack]
name = "cours"

[containers.worker]
image = "busybox:1.36"
command = ["sh", "-c", "exit 1"]
restart = "on-failure"

[containers.web]
image = "busybox:1.36"
command = ["httpd", "-f", "-p", "80"]
ports = ["8080:80"]
"#,
        files: &[],
        check: restart_goal,
        data: None,
    },
];
