const express = require("express");
const app = express();
app.get("/", (req, res) => res.send("Bonjour depuis le cache !\n"));
app.listen(3000);
