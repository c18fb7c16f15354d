# Links the plugin files FILES into the folder OUT (made anew), for check-config runs.
file(REMOVE_RECURSE ${OUT})
file(MAKE_DIRECTORY ${OUT})
foreach(f ${FILES})
  get_filename_component(name ${f} NAME)
  file(CREATE_LINK ${f} ${OUT}/${name} SYMBOLIC)
endforeach()
