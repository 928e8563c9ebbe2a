#!/bin/sh
echo "hello from strata ($APP_ENV, port $PORT)"
ls /app/lib
