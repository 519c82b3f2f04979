"""Places on a map, offline: Syria's governorate boundaries shipped as reference data, the
point-in-polygon that names a point's governorate, and the map of what a search finds."""
