"""The audit, the scorecard and batch sentiment on Apache Spark (issue 22).

Optional: pyspark comes from `requirements-spark.txt`, never from the base install, and nothing outside
this package imports it. `session` starts or joins the Spark session (and says in one line what is
missing when pyspark or Java is not there); `tables` reads the SPEC section 1 tables from Parquet into
temporary views typed as the import contract types them; `sql` turns the project's DuckDB queries into
Spark SQL (sqlglot) or reads the Spark variant kept beside them (queries/spark/).
"""
