"""The centre registry: names, phones, registered sender numbers, zones, quiet hours."""
