"""Member and household registers (会员 / 户), the 中心户/联户 linkage, import and export."""
