"""The yearly assessment (考核), model associations (示范协会) and the 目标管理责任书."""
