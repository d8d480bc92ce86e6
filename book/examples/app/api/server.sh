#!/bin/sh
# Serves /srv on $PORT (8080 unless set).
exec httpd -f -p "${PORT:-8080}" -h /srv
