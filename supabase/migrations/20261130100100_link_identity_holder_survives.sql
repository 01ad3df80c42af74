-- link_identity: when neither person has a phone number, the profile that already holds the
-- identity survives the merge (it was the older one before). Two concurrent links of one new
-- identity from two profiles then answer the same id: the first one's link stands and the second
-- merges into it, instead of the second merge making the first answer's id a tombstone.

create or replace function public.link_identity(p_profile_id uuid, p_kind text, p_value text)
returns uuid
language plpgsql
set search_path = ''
as $$
declare
  v_value text := public.normalize_identity(p_kind, p_value);
  v_profile uuid;
  v_holder uuid;
  v_a public.profiles;
  v_b public.profiles;
  v_survivor uuid;
begin
  for attempt in 1..5 loop
    v_profile := public.profile_survivor(p_profile_id);
    if v_profile is null then
      raise exception 'profile % not found', p_profile_id using errcode = 'P0002';
    end if;
    v_holder := public.find_profile(p_kind, v_value);

    if v_holder is null then
      begin
        perform 1 from public.profiles p where p.id = v_profile for update;
        if (select p.merged_into from public.profiles p where p.id = v_profile) is not null then
          continue; -- merged meanwhile: start over from the survivor
        end if;
        if p_kind = 'phone' then
          update public.profiles p set phone_number = v_value
          where p.id = v_profile and p.phone_number is null;
          if not found then
            raise exception 'profile % already has another phone number', v_profile
              using errcode = '23505', hint = 'a person has one phone number here';
          end if;
        else
          insert into public.profile_identities (kind, value, profile_id)
          values (p_kind, v_value, v_profile);
        end if;
        return v_profile;
      exception when unique_violation then
        -- Someone took the identity between our look and our write (and committed): merge.
        if p_kind = 'phone' and public.find_profile(p_kind, v_value) is null then
          raise;
        end if;
      end;
      continue;
    end if;

    if v_holder = v_profile then
      return v_profile;
    end if;

    -- Lock both in id order, then check neither was merged meanwhile.
    select * into v_a from public.profiles p where p.id = least(v_holder, v_profile) for update;
    select * into v_b from public.profiles p where p.id = greatest(v_holder, v_profile) for update;
    if v_a.merged_into is not null or v_b.merged_into is not null
       or public.find_profile(p_kind, v_value) is distinct from v_holder then
      continue;
    end if;
    v_survivor := case
      when v_a.phone_number is not null and v_b.phone_number is null then v_a.id
      when v_b.phone_number is not null and v_a.phone_number is null then v_b.id
      else v_holder end;
    return public.merge_profiles(v_survivor, case when v_survivor = v_a.id then v_b.id else v_a.id end);
  end loop;
  raise exception 'could not link the % identity to profile %', p_kind, p_profile_id
    using errcode = '40001';
end;
$$;
