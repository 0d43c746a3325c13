-- A resent file (byte for byte a file already in this delivery) is not read a second time:
-- every row it holds is dropped as a copy, so its lines still reconcile.
insert into dropped_row
select file_id, 'resent file', loaded
from delivery_file
where resent_of is not null and status = 'loaded' and loaded > 0;
