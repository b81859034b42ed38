"""The dynamic "station" partitions: one key per station id of the registry."""

from dagster import DynamicPartitionsDefinition

STATION_PARTITIONS_NAME = "station"
station_partitions = DynamicPartitionsDefinition(name=STATION_PARTITIONS_NAME)
