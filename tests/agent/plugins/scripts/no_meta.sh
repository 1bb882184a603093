#!/bin/sh
# A plugin without graph meta: it prints its values whatever the environment says.
echo "plain.value 7 0"
